// Renders discussion and share mail (plain text + simple HTML) and the small public pages of share links.
// Everything the user typed is data: HTML-escaped in HTML, never evaluated; header-bound text is one line.
import { cleanBodyText } from '../../platform/text.ts';
import type { Language } from '../../staff/user.entity.ts';
import { COLLABORATION_STRINGS } from './collaboration-strings.ts';
import { escapeHtml } from '../../platform/text.ts';
import { oneLine, type RenderedMail } from './render.ts';

type Block = { text: string; html: string };
const paragraphText = (s: string) => cleanBodyText(s).replace(/\r\n?/gu, '\n').trim();
const para = (s: string): Block => {
  const text = paragraphText(s);
  return text ? { text, html: `<p>${escapeHtml(text).replace(/\n/gu, '<br>')}</p>` } : { text: '', html: '' };
};
function layout(blocks: Block[]): { text: string; html: string } {
  return {
    text: `${blocks.map((b) => b.text).filter(Boolean).join('\n\n')}\n`,
    html: `<!doctype html><html><body style="font-family:sans-serif;font-size:14px;line-height:1.4">${blocks.map((b) => b.html).filter(Boolean).join('\n')}</body></html>`,
  };
}
function signOff(language: Language, signature: string): Block[] {
  const sig = paragraphText(signature);
  return [para(COLLABORATION_STRINGS[language].closing), ...(sig ? [{ text: `-- \n${sig}`, html: `<p>-- <br>${escapeHtml(sig).replace(/\n/gu, '<br>')}</p>` }] : [])];
}

/** The opening mail of a discussion, sent once to the whole group. */
export function renderDiscussionMail(input: { language: Language; firmName: string; subject: string; body: string; signature: string }): RenderedMail {
  const t = COLLABORATION_STRINGS[input.language];
  const body = layout([para(t.greeting(null)), para(t.discussionIntro(oneLine(input.firmName))), para(input.body), para(t.discussionHowToReply), ...signOff(input.language, input.signature)]);
  return { subject: oneLine(input.subject), ...body };
}

/** A staff comment, sent to the group in the discussion's thread. */
export function renderCommentMail(input: { language: Language; author: string; subject: string; body: string; signature: string }): RenderedMail {
  const t = COLLABORATION_STRINGS[input.language];
  const body = layout([para(t.commentIntro(oneLine(input.author))), para(input.body), para(t.discussionHowToReply), ...signOff(input.language, input.signature)]);
  return { subject: oneLine(`Re: ${oneLine(input.subject)}`), ...body };
}

/** One recipient's share mail: their own links, one per document. */
export function renderShareMail(input: { language: Language; recipientName: string | null; firmName: string; message: string; links: { name: string; url: string }[]; expiresAt: Date; signature: string }): RenderedMail {
  const t = COLLABORATION_STRINGS[input.language];
  const firm = oneLine(input.firmName);
  const links: Block = {
    text: input.links.map((l) => `  - ${oneLine(l.name)}\n    ${l.url}`).join('\n'),
    html: `<ul>${input.links.map((l) => `<li><a href="${escapeHtml(l.url)}">${escapeHtml(oneLine(l.name))}</a></li>`).join('')}</ul>`,
  };
  const body = layout([
    para(t.greeting(input.recipientName ? oneLine(input.recipientName) : null)), para(t.shareIntro(firm, input.links.length)), links,
    para(input.message), para(t.shareExpiry(input.expiresAt.toISOString().slice(0, 16).replace('T', ' '))), para(t.sharePersonal),
    ...signOff(input.language, input.signature),
  ]);
  return { subject: oneLine(t.shareSubject(firm)), ...body };
}

export type LinkProblem = 'expired' | 'revoked' | 'invalid';

/** The small page a share link shows instead of the file. Fixed wording only: nothing from the request. */
export function renderLinkProblemPage(language: Language, problem: LinkProblem): string {
  const t = COLLABORATION_STRINGS[language];
  const [title, body] = problem === 'expired' ? [t.expiredTitle, t.expiredBody] : problem === 'revoked' ? [t.revokedTitle, t.revokedBody] : [t.invalidTitle, t.invalidBody];
  return `<!doctype html><html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<title>${escapeHtml(t.pageTitle)}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222">`
    + `<h1 style="font-size:1.4rem">${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p></body></html>`;
}
