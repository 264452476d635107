// The New file request dialog and the request pages in a real Chromium against the real server: addresses
// that cannot get requests are greyed out with the reason, the preview shows the recipient's language, sending
// opens the request with its timeline, and ticking the only checklist item fulfils it. First day (issue 16, 3):
// the only eligible contact comes chosen, a description that greets gets no second greeting, the mail ends with
// the sender's name (no signature), and the due date reads as the recipient's language writes it.
import t from 'tap';
import { openPage, saveScreenshot } from '../support/browser.ts';
import { startWebTest } from '../support/web.ts';
import { uniq, uniqEmail } from '../support/env.ts';
import { createTestAccount, createTestClient, createTestContact, createTestUser } from '../support/factories.ts';

const { ta, base, browser, signIn, close } = await startWebTest();
t.teardown(close);
const filing = { blobs: ta.blobs, maxAttachmentBytes: ta.config.maxAttachmentBytes };

t.test('new request: greyed-out address with its reason, preview in the contact\'s language, send, tick the item', async (t) => {
  const { user, email, password } = await createTestUser(ta.db, 'staff', 'Marta Ruiz');
  await createTestAccount(ta.db, user);
  const client = await createTestClient(ta.db, uniq('García López SL'));
  const ok = uniqEmail('lucia');
  const off = uniqEmail('pedro');
  await createTestContact(ta.db, filing, { name: 'Lucía García', emails: [{ address: ok, language: 'es' }], clientIds: [client.id] });
  await createTestContact(ta.db, filing, { name: 'Pedro López', emails: [{ address: off, notifyCategories: ['documents'] }], clientIds: [client.id] });
  const { context, page, problems } = await openPage(browser);
  t.teardown(() => context.close());

  await signIn(page, email, password, '/file-requests');
  await page.getByRole('heading', { level: 1, name: 'File requests' }).waitFor();
  await page.getByRole('button', { name: 'New request' }).click();
  const dialog = page.getByRole('dialog', { name: 'New file request' });
  await dialog.getByLabel('Client').fill(client.name);
  await dialog.getByRole('button', { name: client.name }).click();
  const okBox = dialog.getByRole('checkbox', { name: new RegExp(ok.replace(/[.+]/g, '\\$&')) });
  const offBox = dialog.getByRole('checkbox', { name: new RegExp(off.replace(/[.+]/g, '\\$&')) });
  await okBox.waitFor();
  t.ok(await offBox.isDisabled(), 'an address without the file-requests category cannot be chosen');
  t.ok(await dialog.getByText('this address does not receive file requests').isVisible(), 'and the dialog says why');
  await page.waitForFunction(() => document.querySelectorAll('dialog input[type="checkbox"]:checked').length === 1);
  t.ok(await okBox.isChecked(), 'the client\'s only eligible contact is chosen already');
  t.notOk(await offBox.isChecked());
  await dialog.getByRole('button', { name: 'Next' }).click();
  const subject = uniq('Cierre 2025');
  await dialog.getByLabel('Subject').fill(subject);
  await dialog.getByLabel('Description').fill('Estimada Lucía:\nNecesitamos la documentación del cierre.');
  await dialog.getByLabel('Due date (optional)').fill('2027-01-31');
  await dialog.getByLabel('Checklist (one item per line, optional)').fill('Modelo 303');
  await dialog.getByRole('button', { name: 'Next' }).click();
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await dialog.getByText(`Solicitud de documentos: ${subject}`).waitFor();
  t.ok(await dialog.getByText(/Por favor, envíenos:/).isVisible(), 'the preview is the Spanish mail');
  const mail = await dialog.getByText(/Por favor, envíenos:/).innerText();
  t.notMatch(mail, /Estimado\/a Lucía García:/, 'no greeting of ours before the description\'s own');
  t.match(mail, /^Estimada Lucía:/, 'the description\'s greeting opens the mail');
  t.match(mail, /antes del 31 de enero de 2027\./, 'the due date as Spanish writes it');
  t.notMatch(mail, /2027-01-31/);
  t.match(mail.trimEnd(), /Un cordial saludo,\s*Marta Ruiz$/, 'no signature: the sender\'s name closes the mail');
  await saveScreenshot(page, 'file-request-dialog-preview');
  await dialog.getByRole('button', { name: 'Send request' }).click();

  await page.getByRole('heading', { level: 1, name: subject }).waitFor();
  t.match(page.url(), /\/file-requests\/[0-9a-f-]{36}$/);
  await page.getByRole('heading', { name: 'Timeline' }).waitFor();
  t.ok(await page.getByText(/· Sent · /).isVisible(), 'the timeline shows the mail to the contact');
  // The box follows the server's answer (the request's status is recomputed there).
  await page.getByRole('checkbox', { name: 'Modelo 303' }).click();
  await page.getByText('Fulfilled', { exact: true }).first().waitFor();
  t.ok(await page.getByRole('checkbox', { name: 'Modelo 303' }).isChecked());
  await page.goto(`${base}/file-requests`);
  await page.getByRole('button', { name: 'Fulfilled' }).click();
  await page.getByRole('link', { name: subject }).waitFor();
  t.same(problems, [], 'no console errors');
});
