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
};

/** One line of text for a header or a list row. */
export const oneLine = (s: string) => cleanHeaderText(s);
const paragraphText = (s: string) => cleanBodyText(s).replace(/\r\n?/gu, '\n').trim();
const paragraphHtml = (s: string) => `<p>${escapeHtml(paragraphText(s)).replace(/\n/gu, '<br>')}</p>`;

/** A due date shown to the client: the ISO day as written (unambiguous in every language). */
const showDate = (d: string) => d;

function layout(blocks: { text: string; html: string }[]): { text: string; html: string } {
  return {
    text: `${blocks.map((b) => b.text).filter(Boolean).join('\n\n')}\n`,
    html: `<!doctype html><html><body style="font-family:sans-serif;font-size:14px;line-height:1.4">${blocks.map((b) => b.html).filter(Boolean).join('\n')}</body></html>`,
  };
}

const para = (s: string) => (paragraphText(s) ? { text: paragraphText(s), html: paragraphHtml(s) } : { text: '', html: '' });

function requestBlocks(input: RequestMailInput): { text: string; html: string }[] {
  const t = FILE_REQUEST_STRINGS[input.language];
  const blocks = [para(t.greeting(input.recipientName ? oneLine(input.recipientName) : null)), para(t.requestIntro(oneLine(input.firmName))), para(oneLine(input.subject)), para(input.description)];
  if (input.items.length) {
    const items = input.items.map(oneLine);
    blocks.push({
      text: `${t.itemsHeading}\n${items.map((i) => `  - ${i}`).join('\n')}`,
      html: `<p>${escapeHtml(t.itemsHeading)}</p><ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`,
    });
  }
  if (input.message.trim()) blocks.push(para(input.message));
  if (input.dueDate) blocks.push(para(t.dueLine(showDate(input.dueDate))));
  if (input.attachments > 0) blocks.push(para(t.attachedLine(input.attachments)));
  blocks.push(para(t.howToReply));
  return blocks;
}

function signOff(language: Language, signature: string): { text: string; html: string }[] {
  const t = FILE_REQUEST_STRINGS[language];
  const sig = paragraphText(signature);
  return [para(t.closing), ...(sig ? [{ text: `-- \n${sig}`, html: `<p>-- <br>${escapeHtml(sig).replace(/\n/gu, '<br>')}</p>` }] : [])];
}

export function renderRequestMail(input: RequestMailInput): RenderedMail {
  const t = FILE_REQUEST_STRINGS[input.language];
  const body = layout([...requestBlocks(input), ...signOff(input.language, input.signature)]);
  return { subject: oneLine(t.requestSubject(oneLine(input.subject))), ...body };
}

export function renderReminderMail(input: RequestMailInput): RenderedMail {
  const t = FILE_REQUEST_STRINGS[input.language];
  const body = layout([para(t.reminderIntro), ...requestBlocks(input), ...signOff(input.language, input.signature)]);
  return { subject: oneLine(t.reminderSubject(oneLine(input.subject))), ...body };
}

export function renderAcknowledgementMail(input: { language: Language; recipientName: string | null; subject: string; files: number; signature: string }): RenderedMail {
  const t = FILE_REQUEST_STRINGS[input.language];
  const body = layout([para(t.greeting(input.recipientName ? oneLine(input.recipientName) : null)), para(t.ackBody(input.files)), ...signOff(input.language, input.signature)]);
  return { subject: oneLine(t.ackSubject(oneLine(input.subject))), ...body };
}
