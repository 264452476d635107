// Pure rules of file requests: which checklist item a received file answers, the wording per language,
// due dates in the recipient's language, no second greeting, the sender's name without a signature, and that user
// text in the templates stays data (escaped in HTML, one line in the subject).
import t from 'tap';
import { assignItems, headerValuesOf } from '../../../src/core/collaboration/file-request-replies.ts';
import { renderAcknowledgementMail, renderReminderMail, renderRequestMail, showDate, startsWithGreeting } from '../../../src/core/collaboration/templates/render.ts';
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
  t.match(en.text, /Please reply by 31 March 2026\./, 'the due date as English writes it');
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

t.test('due dates in the recipient\'s language, never as 2027-01-31', async (t) => {
  const base = { recipientName: 'Ana', firmName: 'F', subject: 'Q1', description: 'Papers', message: '', items: [], dueDate: '2027-01-31', attachments: 0, signature: '' };
  t.match(renderRequestMail({ ...base, language: 'en' }).text, /Please reply by 31 January 2027\./);
  t.match(renderRequestMail({ ...base, language: 'es' }).text, /Le rogamos que responda antes del 31 de enero de 2027\./);
  t.match(renderRequestMail({ ...base, language: 'nl' }).text, /Graag uw reactie vóór 31 januari 2027\./);
  t.match(renderReminderMail({ ...base, language: 'nl' }).html, '31 januari 2027', 'reminders too, in the HTML part as well');
  for (const language of ['en', 'es', 'nl'] as const) t.notMatch(renderRequestMail({ ...base, language }).text, '2027-01-31');
  t.equal(showDate('2027-01-01', 'en'), '1 January 2027', 'the day itself whatever the server\'s time zone');
});

t.test('a description that already greets gets no "Dear …," of ours (en, es, nl)', async (t) => {
  const base = { recipientName: 'Ana Ruiz', firmName: 'Firm', subject: 'Q1', message: '', items: [], dueDate: null, attachments: 0, signature: '' };
  const greetings: [string, 'en' | 'es' | 'nl'][] = [
    ['Dear Ana,\nPlease send the papers.', 'en'], ['Hello Ana, please send the papers.', 'en'], ['Hi Ana,\nthe papers please', 'en'], ['Good morning Ana,', 'en'],
    ['Estimada Sra. Ruiz:\nLe pedimos los papeles.', 'es'], ['Hola Ana, necesitamos los papeles.', 'es'], ['Buenos días, Ana:', 'es'], ['Estimado/a cliente:', 'es'],
    ['Beste Ana,\nStuur de papieren.', 'nl'], ['Geachte mevrouw Ruiz,', 'nl'], ['Hallo Ana, graag de papieren.', 'nl'], ['Goedemorgen Ana,', 'nl'],
    // The firm writes in Dutch to a client whose language is English: still a greeting.
    ['Beste Ana, graag de papieren.', 'en'],
  ];
  for (const [description, language] of greetings) {
    t.ok(startsWithGreeting(description), `a greeting: ${JSON.stringify(description)}`);
    const mail = renderRequestMail({ ...base, description, language });
    t.notMatch(mail.text, /^(Dear Ana Ruiz,|Estimado\/a Ana Ruiz:|Beste Ana Ruiz,)/, `no greeting of ours before ${JSON.stringify(description)}`);
    t.ok(mail.text.startsWith(description.split('\n')[0]!), 'the description\'s greeting opens the mail');
  }
  for (const description of ['Please send the 2025 papers.', 'Dearborn office files', 'Hidden costs', 'Daglijst 2025', 'Holanda: papeles']) {
    t.notOk(startsWithGreeting(description), `not a greeting: ${description}`);
    t.match(renderRequestMail({ ...base, description, language: 'en' }).text, /^Dear Ana Ruiz,\n\nFirm asks you/, 'ours stays');
  }
});

t.test('without a signature the mail ends with the sender\'s name, not a bare closing', async (t) => {
  const base = { recipientName: 'Ana', firmName: 'Shared Office', subject: 'Q1', description: 'Papers', message: '', items: [], dueDate: null, attachments: 0 };
  const en = renderRequestMail({ ...base, language: 'en', signature: '', senderName: 'Laura Lawyer' });
  t.match(en.text, /Kind regards,\nLaura Lawyer\n$/);
  t.match(en.html, '<p>Kind regards,<br>Laura Lawyer</p>');
  t.match(renderReminderMail({ ...base, language: 'es', signature: '', senderName: 'Laura' }).text, /Un cordial saludo,\nLaura\n$/);
  t.match(renderAcknowledgementMail({ language: 'nl', recipientName: null, subject: 'Q1', files: 1, signature: '', senderName: 'Laura' }).text, /Met vriendelijke groet,\nLaura\n$/);
  t.match(renderRequestMail({ ...base, language: 'en', signature: 'Laura Lawyer\nPartner', senderName: 'Laura Lawyer' }).text, /Kind regards,\n\n-- \nLaura Lawyer\nPartner\n$/, 'a signature says it already');
  t.match(renderRequestMail({ ...base, language: 'en', signature: '', senderName: '<b>Eve</b>' }).html, '&lt;b&gt;Eve&lt;/b&gt;', 'the name is data');
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
