// Tasks in a real Chromium against the real server: "Follow up" on a message creates a linked task, the
// navigation counts it, My tasks lists it (highlighted from the link), ticking it done empties the count
// and moves it to Done; the calendar address is shown. Screenshot: test-results/tasks.png.
import t from 'tap';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestMessage, createTestUser } from '../support/factories.ts';
import { startWebTest } from '../support/web.ts';

const { ta, base, browser, signIn, close } = await startWebTest();
t.teardown(close);

t.test('Follow up on a message → My tasks → done', async (t) => {
  const { user, email, password } = await createTestUser(ta.db, 'staff', 'Task User');
  const box = await createTestAccount(ta.db, user, { visibility: 'private' });
  const client = await createTestClient(ta.db);
  const message = await createTestMessage(ta.db, ta.blobs, { locations: [{ mailbox: box.inbox }], subject: 'Q4 invoices' });
  await createTestCommunication(ta.db, message, client);

  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, `/login?next=/inbox/${message.id}`);
  await page.getByRole('heading', { level: 1, name: 'Q4 invoices' }).waitFor();
  await page.getByRole('button', { name: 'Follow up' }).click();
  const dialog = page.getByRole('dialog', { name: 'Follow up' });
  t.equal(await dialog.getByLabel('Task').inputValue(), 'Follow up: Q4 invoices', 'the title starts from the subject');
  await dialog.getByLabel('Due').fill('2020-01-01T09:00');
  await dialog.getByRole('button', { name: 'Create task' }).click();
  await page.getByRole('link', { name: 'Task created: open My tasks' }).waitFor();
  await page.locator('.nav-count', { hasText: '1' }).waitFor();
  t.pass('the navigation counts the new task');
  t.match(await page.locator('.nav-count').getAttribute('class'), /nav-count-overdue/, 'overdue shows');

  await page.getByRole('link', { name: 'Task created: open My tasks' }).click();
  await page.getByRole('heading', { level: 1, name: 'My tasks' }).waitFor();
  const row = page.locator('tr.row-highlight');
  await row.waitFor();
  t.match(await row.innerText(), /Follow up: Q4 invoices/, 'the task, highlighted');
  t.match(await row.innerText(), new RegExp(client.name), 'with its client');
  t.match(await row.innerText(), /Overdue/);
  t.ok(await row.getByRole('link', { name: 'Open the message' }).count(), 'it links back to the message');

  await page.getByRole('button', { name: 'Get my calendar address' }).click();
  const feed = await page.getByLabel('Calendar address').inputValue();
  t.match(feed, /\/calendar\/[A-Za-z0-9_-]+\.ics$/, 'the calendar address is shown');
  await saveScreenshot(page, 'tasks');

  // click, not check(): the row leaves the Open list as soon as the change is saved.
  await row.getByRole('checkbox', { name: 'Mark “Follow up: Q4 invoices” done' }).click();
  await page.getByText('No open tasks.', { exact: false }).waitFor();
  await page.locator('.nav-count').waitFor({ state: 'detached' });
  t.pass('the count is gone');
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByText('Follow up: Q4 invoices').waitFor();
  const saved = await (await context.request.get(`${base}/api/tasks?status=done`)).json();
  t.equal(saved.items[0].messageId, message.id, 'saved on the server, linked to the message');
  t.same(problems, [], 'no console errors');
});
