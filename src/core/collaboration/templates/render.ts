// Renders file-request mail (request, reminder, acknowledgement) as plain text + simple HTML.
// Everything the user typed is data: HTML-escaped in the HTML part, never evaluated, and the subject
// is made one line (CR/LF and controls stripped) because it goes into a header.
import { cleanBodyText, cleanHeaderText, escapeHtml } from '../../platform/text.ts';
import type { Language } from '../../staff/user.entity.ts';
import { FILE_REQUEST_STRINGS } from './strings.ts';

export type RenderedMail = { subject: string; text: string; html: string };
export type RequestMailInput = {
  language: Language;
  recipientName: string | null;
  firmName: string;
  subject: string;
  description: string;
  message: string;
  items: string[];
  dueDate: string | null;
  attachments: number;
  signature: string;
  /** The person sending (the user's name): the mail ends with it when they have no signature. */
  senderName?: string | null;
};

/** One line of text for a header or a list row. */
export const oneLine = (s: string) => cleanHeaderText(s);
const paragraphText = (s: string) => cleanBodyText(s).replace(/\r\n?/gu, '\n').trim();
const paragraphHtml = (s: string) => `<p>${escapeHtml(paragraphText(s)).replace(/\n/gu, '<br>')}</p>`;

/** Each client language's own way of writing a date (Intl, CLDR): "31 January 2027", "31 de enero de 2027". */
const DATE_LOCALES: Record<Language, string> = { en: 'en-GB', es: 'es-ES', nl: 'nl-NL' };

/** A due date (an ISO day) as the recipient's language writes it; the day itself, whatever the server's zone. */
export function showDate(day: string, language: Language): string {
  const at = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(at.getTime())) return day;
  return new Intl.DateTimeFormat(DATE_LOCALES[language], { dateStyle: 'long', timeZone: 'UTC' }).format(at);
}

/**
 * Whether the description already opens with a greeting ("Dear Ana,", "Estimada Sra. Ruiz:", "Beste Jan,"),
 * in any of the client languages (a firm may write in another than the recipient's): then the mail adds none.
 */
const GREETING = new RegExp(
  '^(?:dear|hello|hi|hey|good (?:morning|afternoon|evening)|greetings' +
    '|estimad[oa]s?|estimad[oa]/a|querid[oa]s?|apreciad[oa]s?|distinguid[oa]s?|hola|buen[oa]s (?:días|dias|tardes|noches)|señor[ae]?s?|sr\\.|sra\\.' +
    '|beste|geachte|hallo|hoi|dag|goedemorgen|goedemiddag|goedenavond|lieve)(?=[\\s,:;!.]|$)',
  'iu',
);
export const startsWithGreeting = (description: string) => GREETING.test(cleanBodyText(description).trimStart());

function layout(blocks: { text: string; html: string }[]): { text: string; html: string } {
  return {
    text: `${blocks.map((b) => b.text).filter(Boolean).join('\n\n')}\n`,
    html: `<!doctype html><html><body style="font-family:sans-serif;font-size:14px;line-height:1.4">${blocks.map((b) => b.html).filter(Boolean).join('\n')}</body></html>`,
  };
}

const para = (s: string) => (paragraphText(s) ? { text: paragraphText(s), html: paragraphHtml(s) } : { text: '', html: '' });

function requestBlocks(input: RequestMailInput): { text: string; html: string }[] {
  const t = FILE_REQUEST_STRINGS[input.language];
  // A description that greets the client itself comes first, instead of ours ("Dear …," twice otherwise).
  const greets = startsWithGreeting(input.description);
  const blocks = greets
    ? [para(input.description), para(t.requestIntro(oneLine(input.firmName))), para(oneLine(input.subject))]
    : [para(t.greeting(input.recipientName ? oneLine(input.recipientName) : null)), para(t.requestIntro(oneLine(input.firmName))), para(oneLine(input.subject)), para(input.description)];
  if (input.items.length) {
    const items = input.items.map(oneLine);
    blocks.push({
      text: `${t.itemsHeading}\n${items.map((i) => `  - ${i}`).join('\n')}`,
      html: `<p>${escapeHtml(t.itemsHeading)}</p><ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`,
    });
  }
  if (input.message.trim()) blocks.push(para(input.message));
  if (input.dueDate) blocks.push(para(t.dueLine(showDate(input.dueDate, input.language))));
  if (input.attachments > 0) blocks.push(para(t.attachedLine(input.attachments)));
  blocks.push(para(t.howToReply));
  return blocks;
}

/** The closing, then the signature; without one, the sender's name under the closing (never a bare "Kind regards,"). */
function signOff(language: Language, signature: string, senderName?: string | null): { text: string; html: string }[] {
  const t = FILE_REQUEST_STRINGS[language];
  const sig = paragraphText(signature);
  if (sig) return [para(t.closing), { text: `-- \n${sig}`, html: `<p>-- <br>${escapeHtml(sig).replace(/\n/gu, '<br>')}</p>` }];
  const name = senderName ? oneLine(senderName) : '';
  return [name ? { text: `${t.closing}\n${name}`, html: `<p>${escapeHtml(t.closing)}<br>${escapeHtml(name)}</p>` } : para(t.closing)];
}

export function renderRequestMail(input: RequestMailInput): RenderedMail {
  const t = FILE_REQUEST_STRINGS[input.language];
  const body = layout([...requestBlocks(input), ...signOff(input.language, input.signature, input.senderName)]);
  return { subject: oneLine(t.requestSubject(oneLine(input.subject))), ...body };
}

export function renderReminderMail(input: RequestMailInput): RenderedMail {
  const t = FILE_REQUEST_STRINGS[input.language];
  const body = layout([para(t.reminderIntro), ...requestBlocks(input), ...signOff(input.language, input.signature, input.senderName)]);
  return { subject: oneLine(t.reminderSubject(oneLine(input.subject))), ...body };
}

export function renderAcknowledgementMail(input: { language: Language; recipientName: string | null; subject: string; files: number; signature: string; senderName?: string | null }): RenderedMail {
  const t = FILE_REQUEST_STRINGS[input.language];
  const body = layout([para(t.greeting(input.recipientName ? oneLine(input.recipientName) : null)), para(t.ackBody(input.files)), ...signOff(input.language, input.signature, input.senderName)]);
  return { subject: oneLine(t.ackSubject(oneLine(input.subject))), ...body };
}
