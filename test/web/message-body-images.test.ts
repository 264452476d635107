// The sandboxed body frame in a real Chromium: its origin is opaque, so its image requests carry no
// session cookie. cid: images must still show (signed links), remote images only after ?images=1, and
// a signed link must not outlive its expiry or survive tampering.
import t from 'tap';
import { startWebTest } from '../support/web.ts';
import { createTestAccount, createTestMessage, createTestUser, TEST_PASSWORD } from '../support/factories.ts';

const w = await startWebTest();
t.teardown(w.close);

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

t.test('cid: images load in the sandboxed body frame through signed links; remote images wait', async (t) => {
  const { user, email } = await createTestUser(w.ta.db);
  const box = await createTestAccount(w.ta.db, user, { visibility: 'private' });
  const m = await createTestMessage(w.ta.db, w.ta.blobs, {
    html: '<p>Hola</p><img src="cid:logo@firm.example" alt="logo"><img src="https://tracker.example/p.gif" alt="pixel">',
    locations: [{ mailbox: box.inbox }],
    attachments: [{ filename: 'logo.png', contentType: 'image/png', content: PNG, inline: true, contentId: '<logo@firm.example>' }],
  });
  const context = await w.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  const seen: { url: string; status: number; corp: string | undefined }[] = [];
  const remote: string[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/attachments/')) seen.push({ url: r.url(), status: r.status(), corp: r.headers()['cross-origin-resource-policy'] });
  });
  page.on('request', (r) => {
    if (r.url().includes('tracker.example')) remote.push(r.url());
  });
  // Remote hosts never answer in tests; keep the attempt visible without waiting for a timeout.
  await context.route('https://tracker.example/**', (route) => route.fulfill({ status: 204 }));
  await w.signIn(page, email, TEST_PASSWORD, '/');
  await page.waitForLoadState('networkidle');

  const open = async (query: string) => {
    await page.evaluate(({ id, query }) => {
      document.querySelectorAll('iframe.test-body').forEach((f) => f.remove());
      const f = document.createElement('iframe');
      f.className = 'test-body';
      // In view whatever the page around it shows: nothing in the frame may wait for scrolling.
      f.style.cssText = 'position:fixed;top:0;left:0;width:600px;height:400px;z-index:9999;background:#fff';
      // In view whatever the page around it shows: nothing in the frame may wait for scrolling.
      f.style.cssText = 'position:fixed;top:0;left:0;width:600px;height:400px;z-index:9999;background:#fff';
      f.setAttribute('sandbox', 'allow-popups allow-popups-to-escape-sandbox');
      f.src = `/api/messages/${id}/body${query}`;
      document.body.appendChild(f);
    }, { id: m.id, query });
    // The frame's load event waits for its images.
    const frame = await (await page.waitForSelector('iframe.test-body')).contentFrame();
    await frame!.waitForLoadState('load');
    await frame!.waitForFunction(() => [...document.images].every((i) => i.complete), undefined, { timeout: 10_000 });
  };
  // Playwright reports responses asynchronously: the frame's load event can come first.
  const cidResponse = page.waitForResponse((r) => r.url().includes('/api/attachments/'), { timeout: 10_000 }).catch(() => null);
  await open('');
  await cidResponse;
  t.equal(seen.length, 1, 'the cid: image was requested');
  t.equal(seen[0]?.status, 200, 'and served without a cookie, by its signed link');
  t.equal(seen[0]?.corp, 'cross-origin', 'loadable by the opaque-origin frame');
  t.same(remote, [], 'the remote image was not requested');
  await open('?images=1');
  t.equal(remote.length, 1, 'with images=1 the remote image loads');

  // The link works only as signed, for a limited time, and only for that attachment.
  const link = new URL(seen[0]!.url);
  const bare = await w.ta.app.inject({ method: 'GET', url: `${link.pathname}?inline=1` });
  t.equal(bare.statusCode, 401, 'no cookie, no signature: refused');
  const tampered = new URL(link);
  tampered.searchParams.set('exp', String(Number(link.searchParams.get('exp')) + 3600));
  t.equal((await w.ta.app.inject({ method: 'GET', url: tampered.pathname + tampered.search })).statusCode, 401, 'a changed expiry breaks the signature');
  const expired = new URL(link);
  expired.searchParams.set('exp', '1000');
  t.equal((await w.ta.app.inject({ method: 'GET', url: expired.pathname + expired.search })).statusCode, 401, 'an expired link is refused');
  const valid = await w.ta.app.inject({ method: 'GET', url: link.pathname + link.search });
  t.equal(valid.statusCode, 200);
  t.same(valid.rawPayload, PNG, 'the bytes of the inline part');
});

t.test('the quoted original of an HTML reply starts collapsed in the sandboxed frame, and opens on request', async (t) => {
  const { user, email } = await createTestUser(w.ta.db);
  const box = await createTestAccount(w.ta.db, user, { visibility: 'private' });
  const m = await createTestMessage(w.ta.db, w.ta.blobs, {
    subject: 'Re: Modelo 303',
    html: '<div dir="ltr">Done, it is filed.</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 3 Mar 2026 at 10:00, Ana &lt;ana@client.example&gt; wrote:<br></div>' +
      '<blockquote class="gmail_quote">Please file the VAT form before Friday.</blockquote></div>',
    locations: [{ mailbox: box.inbox }],
  });
  const context = await w.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await w.signIn(page, email, TEST_PASSWORD, `/inbox/${m.id}`);
  await page.getByRole('heading', { level: 1, name: 'Re: Modelo 303' }).waitFor();
  t.equal(await page.locator('iframe.body-frame').getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox', 'still the sandboxed frame');
  const body = page.frameLocator('iframe.body-frame');
  await body.getByText('Done, it is filed.').waitFor();
  t.notOk(await body.getByText('Please file the VAT form').isVisible(), 'the quote starts collapsed');
  t.notOk(await body.getByText(/Ana .* wrote:/).isVisible(), 'with its "On … wrote:" line');
  await body.getByText('Show quoted text').click();
  await body.getByText('Please file the VAT form').waitFor();
  t.pass('and opens on request, without scripts');
});
