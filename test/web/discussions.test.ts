// The Discussions tab in a real Chromium: a new topic can only go to contact addresses that receive
// messages (the others are greyed out with the reason), posting shows the thread, and a staff comment
// joins it. Screenshot: test-results/discussions-tab.png.
import t from 'tap';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createTestAccount, createTestClient, createTestContact, createTestUser } from '../support/factories.ts';

const { ta, browser, signIn, close } = await startWebTest();
t.teardown(close);
const filing = { blobs: ta.blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };

t.test('post a discussion to eligible contacts and comment on it', async (t) => {
  const { user, email, password } = await createTestUser(ta.db, 'staff', 'Disc User');
  await createTestAccount(ta.db, user);
  const client = await createTestClient(ta.db, uniq('Acme'));
  const okAddress = uniqEmail('ok');
  const offAddress = uniqEmail('off');
  await createTestContact(ta.db, filing, { name: 'Olga Ok', emails: [{ address: okAddress, language: 'en' }], clientIds: [client.id] });
  await createTestContact(ta.db, filing, { name: 'Otto Off', emails: [{ address: offAddress, language: 'en', notifyCategories: ['documents'] as never }], clientIds: [client.id] });

  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, `/login?next=/clients/${client.id}/discussions`);
  await page.getByRole('heading', { level: 2, name: 'Discussions' }).waitFor();
  t.equal(await page.getByRole('link', { name: 'Discussions' }).getAttribute('aria-current'), 'page', 'the tab is current');
  await page.getByText('No discussions with this client yet.').waitFor();

  await page.getByRole('button', { name: 'New discussion' }).click();
  const dialog = page.getByRole('dialog', { name: 'New discussion' });
  const ok = dialog.getByRole('checkbox', { name: new RegExp(`Olga Ok <${okAddress}>`) });
  const off = dialog.getByRole('checkbox', { name: new RegExp(`Otto Off <${offAddress}>`) });
  await ok.waitFor();
  t.ok(await off.isDisabled(), 'an address without the messages category cannot be chosen');
  await dialog.getByText('does not receive messages').waitFor();
  t.pass('and says why');
  await ok.check();
  await dialog.getByLabel('Subject', { exact: true }).fill('Year-end planning');
  await dialog.getByLabel('Message', { exact: true }).fill('Shall we meet in December?');
  await dialog.getByRole('button', { name: 'Post discussion' }).click();
  await page.getByRole('heading', { level: 3, name: 'Year-end planning' }).waitFor();
  t.ok(await page.getByText('Shall we meet in December?').isVisible(), 'the opening post is shown');
  t.ok(await page.getByText(`With Olga Ok`).isVisible(), 'with its participants');

  await page.getByLabel('Your comment').fill('Any date works for us.');
  await page.getByRole('button', { name: 'Send comment' }).click();
  await page.locator('.discussion-comment', { hasText: 'Any date works for us.' }).waitFor();
  t.equal(await page.locator('.discussion-comment').count(), 2, 'the comment joins the thread');
  await page.getByRole('button', { name: /Year-end planning/ }).waitFor();
  t.match(await page.locator('.discussion-item').first().innerText(), /2 messages · 1 participant ·/, 'the list shows the topic, in singular and plural');
  const rows = await ta.db.em.fork().execute<{ kind: string; to: { address: string }[] }[]>(
    `select o.kind, o."to" from outbox o join discussion d on d.client_id = ? where o.client_id = d.client_id order by o.created_at`, [client.id]);
  t.same(rows.map((r) => [r.kind, r.to.map((a) => a.address)]), [['discussion', [okAddress]], ['discussion_comment', [okAddress]]], 'both went to the group by email');
  await saveScreenshot(page, 'discussions-tab');
  t.same(problems, [], 'no console errors');
});
