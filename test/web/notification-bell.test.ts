// The notification bell in a real Chromium against the real server: the unread count in the top bar,
// the panel listing notifications (unread first), opening one marks it read and follows its link,
// and "Mark all read" clears the count. Screenshot: test-results/notification-bell.png.
import t from 'tap';
import { createNotification } from '../../src/core/collaboration/staff-notifications.ts';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { createTestUser } from '../support/factories.ts';

const { ta, base, browser, signIn, close } = await startWebTest();
t.teardown(close);

t.test('the bell shows the unread count; opening a notification reads it and goes to its page; mark all read', async (t) => {
  const { user, email, password } = await createTestUser(ta.db, 'staff', 'Bell User');
  const em = ta.db.em.fork();
  await createNotification(em, { userId: user.id, kind: 'share_downloaded', title: 'client@example.com downloaded "a.pdf"', link: '/clients' });
  await createNotification(em, { userId: user.id, kind: 'discussion_replied', title: 'Daan replied to "Holding"', link: '/settings' });
  await em.flush();

  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());
  await signIn(page, email, password, `/login?next=/inbox`);
  await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();

  const bell = page.getByRole('button', { name: 'Notifications, 2 unread' });
  await bell.waitFor();
  t.equal(await page.locator('.notification-count').innerText(), '2', 'the count is on the bell');
  await bell.click();
  const panel = page.locator('#notification-panel');
  await panel.getByText('Daan replied to "Holding"').waitFor();
  const titles = await panel.locator('.notification-title').allInnerTexts();
  t.equal(titles.length, 2);
  t.match(titles[0], 'Daan replied', 'newest first among the unread');
  await saveScreenshot(page, 'notification-bell');

  await panel.getByRole('button', { name: /Daan replied/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  t.equal(new URL(page.url()).pathname, '/settings', 'follows the notification\'s link');
  await page.getByRole('button', { name: 'Notifications, 1 unread' }).waitFor();
  t.pass('one left unread');

  await page.getByRole('button', { name: 'Notifications, 1 unread' }).click();
  await panel.getByRole('button', { name: 'Mark all read' }).click();
  await page.getByRole('button', { name: 'Notifications', exact: true }).waitFor();
  t.equal(await page.locator('.notification-count').count(), 0, 'no count once all are read');
  const count = await context.request.get(`${base}/api/notifications/unread-count`);
  t.same(await count.json(), { unread: 0 }, 'saved on the server');
  t.same(problems, [], 'no console errors');
});
