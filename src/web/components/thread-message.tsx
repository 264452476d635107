// One message of a thread: a one-line summary when collapsed; expanded, its headers, body, attachments and
// clients. HTML mail is shown ONLY in a sandboxed frame (no scripts, opaque origin, links open outside)
// served by the API with a strict CSP; remote images load only after "Load images". Text mail is rendered
// here as text, with quoted parts collapsed.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useI18n } from '../i18n/context.tsx';
import { attachmentUrl, bodyUrl, type MessageDetail } from './message-api.ts';
import { MailIcon } from './message-icons.tsx';
import { MessageDialog } from './message-dialog.tsx';
import { SaveAttachmentDialog } from './save-attachment-dialog.tsx';

type Attachment = MessageDetail['attachments'][number];
type Authentication = NonNullable<MessageDetail['authentication']>;

/** Whether the From is who it says (DKIM/DMARC checked at sync, issue 12): a word, the checks in its title. */
function SenderBadge({ auth }: { auth: Authentication }) {
  const { t } = useI18n();
  const label = auth.verdict === 'pass' ? t('message.senderPass') : auth.verdict === 'fail' ? t('message.senderFail') : t('message.senderNone');
  return (
    <>
      {' '}
      <span class={`badge sender-badge sender-${auth.verdict}`} title={t('message.senderDetails', { dkim: auth.dkim, spf: auth.spf, dmarc: auth.dmarc })} data-verdict={auth.verdict}>
        {label}
      </span>
    </>
  );
}

const previewable = (a: Attachment) => a.contentType === 'application/pdf' || /^image\/(png|jpeg|gif|webp)$/.test(a.contentType);
const formatAddress = (a: { name: string | null; address: string }) => (a.name ? `${a.name} <${a.address}>` : a.address);

/** Splits text into what was written and what was quoted ("> " lines, with the "On … wrote:" line above). */
export function splitQuotes(text: string): { quoted: boolean; text: string }[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: { quoted: boolean; lines: string[] }[] = [];
  for (const line of lines) {
    const quoted = /^\s*>/.test(line);
    const last = blocks[blocks.length - 1];
    if (last && last.quoted === quoted) last.lines.push(line);
    else blocks.push({ quoted, lines: [line] });
  }
  // The attribution line right above a quote belongs to it.
  for (let i = 1; i < blocks.length; i++) {
    const prev = blocks[i - 1]!;
    if (!blocks[i]!.quoted || prev.quoted) continue;
    while (prev.lines.length && prev.lines[prev.lines.length - 1]!.trim() === '') prev.lines.pop();
    const attribution = prev.lines[prev.lines.length - 1];
    if (attribution && /[:：]\s*$/.test(attribution)) blocks[i]!.lines.unshift(prev.lines.pop()!);
  }
  return blocks.map((b) => ({ quoted: b.quoted, text: b.lines.join('\n').replace(/^\n+|\n+$/g, '') })).filter((b) => b.text.trim() !== '');
}

export function TextBody({ text }: { text: string }) {
  const { t } = useI18n();
  const blocks = splitQuotes(text);
  if (blocks.length === 0) return <p class="muted">{t('message.noText')}</p>;
  return (
    <div class="text-body">
      {blocks.map((b, i) =>
        b.quoted ? (
          <details key={i} class="quote">
            <summary>{t('message.showQuoted')}</summary>
            <pre>{b.text}</pre>
          </details>
        ) : (
          <pre key={i}>{b.text}</pre>
        ),
      )}
    </div>
  );
}

export function ThreadMessage({ message, expanded, onToggle, children }: {
  message: MessageDetail;
  expanded: boolean;
  onToggle: () => void;
  /** Client chips and actions, shown under the headers. */
  children?: ComponentChildren;
}) {
  const { t, formatDate, formatNumber } = useI18n();
  const [images, setImages] = useState(false);
  const [plain, setPlain] = useState(false);
  const [preview, setPreview] = useState<Attachment | null>(null);
  const [saving, setSaving] = useState<Attachment | null>(null);
  const from = message.from ? message.from.name || message.from.address : t('message.unknownSender');
  const date = formatDate(message.date, { dateStyle: 'medium', timeStyle: 'short' });
  const files = message.attachments.filter((a) => !a.inline);

  if (!expanded) {
    return (
      <article class="thread-item thread-item-collapsed" aria-label={t('message.fromOn', { from, date })}>
        <button type="button" class="thread-toggle" aria-expanded="false" onClick={onToggle}>
          <span class={`thread-from${message.unread ? ' unread' : ''}`}>{from}</span>
          <span class="thread-snippet">{message.snippet}</span>
          {message.hasAttachments && <MailIcon name="paperclip" size={14} />}
          <time dateTime={message.date}>{date}</time>
        </button>
      </article>
    );
  }

  const html = message.html !== null && !plain;
  return (
    <article class="thread-item" aria-label={t('message.fromOn', { from, date })} data-message-id={message.id}>
      <header class="thread-head">
        <button type="button" class="thread-toggle" aria-expanded="true" onClick={onToggle}>
          <span class="thread-from">{from}</span>
          <time dateTime={message.date}>{date}</time>
        </button>
        <dl class="headers">
          <dt>{t('message.from')}</dt>
          <dd>
            {message.from ? formatAddress(message.from) : t('message.unknownSender')}
            {message.direction === 'inbound' && message.authentication && <SenderBadge auth={message.authentication} />}
          </dd>
          <dt>{t('message.to')}</dt>
          <dd>{message.to.map(formatAddress).join(', ') || '—'}</dd>
          {message.cc.length > 0 && (
            <>
              <dt>{t('message.cc')}</dt>
              <dd>{message.cc.map(formatAddress).join(', ')}</dd>
            </>
          )}
          <dt>{t('message.date')}</dt>
          <dd>
            <time dateTime={message.date}>{formatDate(message.date, { dateStyle: 'full', timeStyle: 'short' })}</time>
          </dd>
          {/* Lists show the Date header; when it arrived is here, if that was noticeably later or earlier. */}
          {message.receivedAt && Math.abs(Date.parse(message.receivedAt) - Date.parse(message.date)) >= 60_000 && (
            <>
              <dt>{t('message.received')}</dt>
              <dd>
                <time dateTime={message.receivedAt}>{formatDate(message.receivedAt, { dateStyle: 'full', timeStyle: 'short' })}</time>
              </dd>
            </>
          )}
        </dl>
      </header>
      {children}
      {message.parseStatus !== 'ok' && (
        <p class="alert alert-info">{message.parseStatus === 'failed' ? t('message.parseFailed') : t('message.parsePartial')}</p>
      )}
      <div class="body-tools">
        {message.html !== null && message.blockedImages > 0 && !images && !plain && (
          <>
            <span class="muted">{t('message.imagesBlocked', { count: message.blockedImages })}</span>
            <button type="button" class="btn btn-small" onClick={() => setImages(true)}>
              <MailIcon name="image" size={16} />
              {t('message.loadImages')}
            </button>
          </>
        )}
        {message.html !== null && (
          <button type="button" class="btn btn-small" aria-pressed={plain} onClick={() => setPlain(!plain)}>
            {plain ? t('message.showFormatted') : t('message.showPlain')}
          </button>
        )}
      </div>
      {html ? (
        <iframe
          class="body-frame"
          // Never allow-scripts or allow-same-origin: the mail stays inert and cannot reach the app.
          sandbox="allow-popups allow-popups-to-escape-sandbox"
          src={bodyUrl(message.id, images)}
          title={t('message.bodyFrame', { subject: message.subject || t('message.noSubject') })}
          referrerpolicy="no-referrer"
        />
      ) : (
        <TextBody text={message.text} />
      )}
      {files.length > 0 && (
        <section class="attachments" aria-label={t('message.attachments')}>
          <h3>
            <MailIcon name="paperclip" size={16} /> {t('message.attachmentsCount', { count: files.length })}
          </h3>
          <ul>
            {files.map((a) => (
              <li key={a.id} class="attachment">
                <span class="attachment-name">{a.filename}</span>
                <span class="muted">{formatNumber(Math.max(1, Math.round(a.size / 1024)))} KB</span>
                <a class="btn btn-small" href={attachmentUrl(a.id)} download={a.filename} aria-label={t('message.downloadFile', { name: a.filename })}>
                  <MailIcon name="download" size={16} />
                  {t('message.download')}
                </a>
                {previewable(a) && (
                  <button type="button" class="btn btn-small" onClick={() => setPreview(a)} aria-label={t('message.previewFile', { name: a.filename })}>
                    <MailIcon name="eye" size={16} />
                    {t('message.preview')}
                  </button>
                )}
                <button type="button" class="btn btn-small" onClick={() => setSaving(a)} aria-label={t('saveDocument.actionFor', { name: a.filename })}>
                  {t('saveDocument.action')}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {saving && <SaveAttachmentDialog attachment={saving} clients={message.clients} onClose={() => setSaving(null)} />}
      {preview && (
        <MessageDialog title={preview.filename} onClose={() => setPreview(null)} wide labelId="attachment-preview-title">
          {preview.contentType === 'application/pdf' ? (
            <iframe class="preview-frame" src={attachmentUrl(preview.id, true)} title={preview.filename} />
          ) : (
            <img class="preview-image" src={attachmentUrl(preview.id, true)} alt={preview.filename} />
          )}
        </MessageDialog>
      )}
    </article>
  );
}
