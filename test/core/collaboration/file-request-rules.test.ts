// Pure rules of file requests: which checklist item a received file answers, the wording per language,
// and that user text in the templates stays data (escaped in HTML, one line in the subject).
import t from 'tap';
import { assignItems, headerValuesOf } from '../../../src/core/collaboration/file-request-replies.ts';
import { renderAcknowledgementMail, renderReminderMail, renderRequestMail } from '../../../src/core/collaboration/templates/render.ts';
import { replyTokenAddress } from '../../../src/core/collaboration/file-requests.ts';

const items = [
  { id: 'tax', label: '2025 tax return', fulfilled: false },
  { id: 'letter', label: 'Signed engagement letter', fulfilled: false },
  { id: 'id', label: 'Passport', fulfilled: false },
];

t.test('files go to the item their name matches; leftovers only to a single open item', async (t) => {
  const m = assignItems(items, [{ id: 'a', name: 'tax-return-2025.pdf' }, { id: 'b', name: 'Engagement_Letter (signed).pdf' }, { id: 'c', name: 'IMG_0001.pdf' }]);
  t.equal(m.get('a'), 'tax');
  t.equal(m.get('b'), 'letter');
  t.equal(m.get('c'), 'id', 'the one item still open takes the unnamed file');
  const two = assignItems(items, [{ id: 'x', name: 'scan.pdf' }]);
  t.equal(two.get('x'), null, 'with several items open an unnamed file stays on the request only');
  const accents = assignItems([{ id: 'r', label: 'Declaración de la renta 2025', fulfilled: false }, { id: 'o', label: 'Otro', fulfilled: false }], [{ id: 'f', name: 'declaracion_renta_2025.pdf' }]);
  t.equal(accents.get('f'), 'r', 'accents and separators do not matter');
  t.equal(assignItems([], [{ id: 'f', name: 'a.pdf' }]).get('f'), null);
});

t.test('request, reminder and acknowledgement wording per language', async (t) => {
  const base = { recipientName: 'Ana', firmName: 'Firm & Co', subject: 'Q1', description: 'Line one\nLine two', message: '', items: ['Invoices'], dueDate: '2026-03-31', attachments: 1, signature: 'Ana\nFirm' };
  const en = renderRequestMail({ ...base, language: 'en' });
  t.equal(en.subject, 'File request: Q1');
  t.match(en.text, /Dear Ana,\n\nFirm & Co asks you for the following:/);
  t.match(en.text, /Please reply by 2026-03-31\./);
  t.match(en.text, /A document is attached/);
  t.match(en.text, /-- \nAna\nFirm\n$/);
  t.match(en.html, 'Firm &amp; Co asks');
  t.match(en.html, 'Line one<br>Line two');
  t.equal(renderRequestMail({ ...base, language: 'es' }).subject, 'Solicitud de documentos: Q1');
  t.equal(renderRequestMail({ ...base, language: 'nl' }).subject, 'Verzoek om documenten: Q1');
  t.equal(renderReminderMail({ ...base, language: 'es' }).subject, 'Recordatorio: Q1');
  t.equal(renderReminderMail({ ...base, language: 'nl' }).subject, 'Herinnering: Q1');
  t.equal(renderAcknowledgementMail({ language: 'es', recipientName: null, subject: 'Q1', files: 2, signature: '' }).subject, 'Recibido: Q1');
  t.match(renderAcknowledgementMail({ language: 'en', recipientName: null, subject: 'Q1', files: 2, signature: '' }).text, /Hello,\n\nThank you: we received your 2 files\./);
});

t.test('user text is data: subject on one line, HTML escaped, template syntax literal', async (t) => {
  const evil = 'A\r\nBcc: x@y.example {{7*7}} ${7*7} <b>';
  const r = renderRequestMail({ language: 'en', recipientName: '<script>', firmName: 'F', subject: evil, description: evil, message: evil, items: [evil], dueDate: null, attachments: 0, signature: '' });
  t.equal(r.subject, 'File request: A Bcc: x@y.example {{7*7}} ${7*7} <b>');
  t.notMatch(r.subject, /[\r\n]/);
  t.notMatch(r.html, /<b>|<script>/);
  t.match(r.html, '&lt;script&gt;');
  t.match(r.text, '{{7*7}} ${7*7} <b>');
});

t.test('reply token address and header unfolding', async (t) => {
  t.equal(replyTokenAddress('Info@Firm.Example', 'abc'), 'info+r-abc@firm.example');
  t.same(headerValuesOf('Subject: a\r\nDelivered-To: x+r-1@d\r\nDELIVERED-TO:\r\n y@d', 'delivered-to'), ['x+r-1@d', 'y@d']);
});
