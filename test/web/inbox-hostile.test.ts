// Every hostile HTML message of the shared corpus, synced from Dovecot and opened in the message view of a
// real Chromium: no dialog opens (no script ran), nothing is requested from anywhere but Dossier itself
// before "Load images" (the files point at *.example hosts, cloud metadata and loopback ports), and the
// top page never navigates. The body is only ever in the sandboxed frame.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { saveScreenshot } from '../support/browser.ts';
import { addMailbox, apiGet, signInNewUser, startMailStack, waitForInbox } from './inbox-helpers.ts';

const hostileDir = fileURLToPath(new URL('../../../shared/corpus/hostile/', import.meta.url));
const files = readdirSync(hostileDir).filter((f) => /^html-.*\.eml$/.test(f)).sort();

const stack = await startMailStack();
t.teardown(() => stack.close());

t.test('hostile HTML opened in the message view stays inert', async (t) => {
  t.ok(files.length >= 10, `found ${files.length} hostile HTML messages`);
  const mail = await stack.dovecot.addUser({ prefix: 'hostile' });
  await stack.dovecot.deliverMany(mail.user, files.map((f) => readFileSync(`${hostileDir}${f}`)));

  const { context, page, problems } = await signInNewUser(stack, 'Hilde Hostile');
  t.teardown(() => context.close());
  const origin = new URL(stack.base).origin;
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  const foreign: string[] = [];
  page.on('request', (req) => {
    const url = req.url();
    if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank' || url === 'about:srcdoc') return;
    if (new URL(url).origin !== origin) foreign.push(url);
  });
  const popups: string[] = [];
  context.on('page', (p) => popups.push(p.url()));

  const account = await addMailbox(page, stack, mail);
  await waitForInbox(page, stack.base, account.id, files.length);
  const list = await apiGet<{ items: { id: string; subject: string }[] }>(page, stack.base, `/messages?accountId=${account.id}&limit=200`);
  t.equal(list.items.length, files.length, 'every hostile message was synced');

  for (const item of list.items) {
    const url = `${stack.base}/inbox/${item.id}`;
    await page.goto(url);
    await page.getByRole('heading', { level: 1 }).last().waitFor();
    const frame = page.locator('iframe.body-frame');
    if (await frame.count()) {
      t.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox', `${item.subject}: sandboxed without scripts or same origin`);
      // The body document has loaded (and had every chance to run what it carries).
      let body = null;
      for (let i = 0; i < 50 && !body; i++) {
        body = page.frames().find((f) => f.url().includes(`/api/messages/${item.id}/body`)) ?? null;
        if (!body) await page.waitForTimeout(100);
      }
      t.ok(body, `${item.subject}: body frame present`);
      await body?.waitForLoadState('load');
    }
    await page.waitForTimeout(300);
    if (/event handlers/i.test(item.subject)) await saveScreenshot(page, 'message-view-html-en');
    t.equal(page.url(), url, `${item.subject}: the top page did not navigate`);
  }
  t.same(dialogs, [], 'no dialog opened: no script ran');
  t.same(foreign, [], 'no request left Dossier before "Load images"');
  t.same(popups, [], 'no window opened by itself');

  // "Load images" is the only way remote content is fetched, and it works.
  const pixels = list.items.find((m) => /remote content/i.test(m.subject)) ?? list.items[0]!;
  await page.goto(`${stack.base}/inbox/${pixels.id}`);
  await page.locator('iframe.body-frame').waitFor();
  const detail = await apiGet<{ blockedImages: number }>(page, stack.base, `/messages/${pixels.id}`);
  t.ok(detail.blockedImages > 0, `the server counted ${detail.blockedImages} blocked remote images`);
  const load = page.getByRole('button', { name: 'Load images' });
  if (await load.count()) {
    await load.click();
    await page.waitForFunction((id) => [...document.querySelectorAll('iframe')].some((f) => f.src.endsWith(`/api/messages/${id}/body?images=1`)), pixels.id);
    await page.waitForTimeout(500);
    t.ok(foreign.length > 0, `after "Load images" the remote images are requested (${foreign.length})`);
    await saveScreenshot(page, 'message-view-html-images-en');
    t.same(dialogs, [], 'still no dialog');
  } else {
    t.fail(`${pixels.subject} offers no "Load images"`);
  }
  t.same(problems.filter((p) => !p.includes('Content Security Policy')), [], 'no script errors in the app');
});
