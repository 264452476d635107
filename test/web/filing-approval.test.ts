// Issue 12 in a real Chromium against the real server: Bob adds a contact whose mail lies only in Alice's
// private mailbox; nothing is filed; Alice sees the filing approval in the bell, opens it, approves in
// Settings → Filing approvals, and Bob then sees the message in the client's log.
// Screenshot: test-results/filing-approval.png.
import t from 'tap';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { signIn as apiSignIn } from '../support/app.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createFiledTestMessage, createTestAccount, createTestClient, createTestUser } from '../support/factories.ts';

const { ta, browser, signIn, close } = await startWebTest();
t.teardown(close);

t.test("Alice approves Bob's filing request from the bell; Bob then sees the message in the client's log", async (t) => {
  const alice = await createTestUser(ta.db, 'staff', 'Alice Private');
  const bob = await createTestUser(ta.db, 'staff', 'Bob Colleague');
  const box = await createTestAccount(ta.db, alice.user, { visibility: 'private' });
  const address = uniqEmail('counsel');
  const subject = `Settlement terms ${uniq('s')}`;
  await createFiledTestMessage(ta.db, ta.blobs, { from: address, to: [box.account.email], subject, locations: [{ mailbox: box.inbox }] },
    { blobs: ta.blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes });
  const client = await createTestClient(ta.db, uniq('Acme Holding'));

  const bobApi = await apiSignIn(ta.app, bob.email, bob.password);
  const added = await bobApi.request('POST', '/api/contacts', { name: 'Counsel', emails: [{ address }], clientIds: [client.id] });
  t.equal(added.statusCode, 201, added.body);
  t.equal(added.json().filed, 0, 'nothing filed for Bob');

  const { context: bobContext, page: bobPage, problems: bobProblems } = await openPage(browser);
  t.teardown(() => bobContext.close());
  await signIn(bobPage, bob.email, bob.password, `/login?next=/clients/${client.id}/log`);
  await bobPage.getByRole('heading', { level: 1, name: client.name }).waitFor();
  t.equal(await bobPage.getByText(subject).count(), 0, "not in the client's log yet");

  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, alice.email, alice.password, '/login?next=/inbox');
  const bell = page.getByRole('button', { name: 'Notifications, 1 unread' });
  await bell.click();
  const panel = page.locator('#notification-panel');
  await panel.getByRole('button', { name: /Bob Colleague asks to file your private mail/ }).click();
  await page.getByRole('heading', { level: 2, name: 'Filing approvals' }).waitFor();
  t.equal(new URL(page.url()).pathname, '/settings/filing-approvals', "the notification opens Alice's approvals");
  await page.getByText(`1 message with ${address} → ${client.name}`).waitFor();
  await saveScreenshot(page, 'filing-approval');
  await page.getByRole('button', { name: `Approve filing mail with ${address} to ${client.name}` }).click();
  await page.getByRole('cell', { name: 'Filed', exact: true }).waitFor();
  t.pass('approved: listed among her answers');

  await bobPage.reload();
  await bobPage.getByText(subject).first().waitFor();
  t.pass("Bob sees the message in the client's log");
  t.same(problems, [], 'no console errors (Alice)');
  t.same(bobProblems, [], 'no console errors (Bob)');
});
