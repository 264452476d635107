// Compose: reply, reply all, forward and new message, from a mailbox of the firm (the one the message came
// through, or a chosen one). Sending is a job on the server: this queues it, then follows the outbox row
// until it is sent or failed, and shows a failure in the mail server's own words.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useI18n } from '../i18n/context.tsx';
import { describeError } from '../i18n/describe-error.ts';
import { useUser } from '../session.tsx';
import { ComposeEditor, type EditorValue } from './compose-editor.tsx';
import {
  getOutbox, listClientDocuments, uploadClientDocuments, listClients, listMailAccounts, sendMessage, sendReply,
  type ClientListItem, type DocumentView, type MailAccountView, type MessageDetail, type OutboxView,
} from './message-api.ts';

export type ComposeMode = 'reply' | 'replyAll' | 'forward' | 'new';

type SendState = { phase: 'idle' } | { phase: 'queueing' } | { phase: 'tracking'; outbox: OutboxView | null; outboxId: string } | { phase: 'error'; error: unknown };

const addressList = (value: string) => value.split(/[,;\n]/).map((a) => a.trim()).filter(Boolean);
const prefixed = (prefix: string, subject: string) => (new RegExp(`^${prefix}:`, 'i').test(subject.trim()) ? subject : `${prefix}: ${subject}`);
const formatAddress = (a: { name: string | null; address: string }) => (a.name ? `${a.name} <${a.address}>` : a.address);

/** Who a reply goes to, for display: the server decides (Reply-To, our own addresses left out). */
function replyRecipients(message: MessageDetail, all: boolean, own: Set<string>): string {
  const list = [...(message.from ? [message.from] : []), ...(all ? [...message.to, ...message.cc] : [])];
  const seen = new Set<string>();
  return list.filter((a) => {
    const key = a.address.toLowerCase();
    if (seen.has(key) || (own.has(key) && list.length > 1)) return false;
    seen.add(key);
    return true;
  }).map(formatAddress).join(', ');
}

export function Compose({ mode, message, onClose, onSent }: {
  mode: ComposeMode;
  message?: MessageDetail;
  onClose: () => void;
  onSent?: (outbox: OutboxView) => void;
}) {
  const { t } = useI18n();
  const user = useUser();
  const [accounts, setAccounts] = useState<MailAccountView[] | null>(null);
  const [accountId, setAccountId] = useState('');
  const [to, setTo] = useState('');
  const [cc, setCc] = useState('');
  const [subject, setSubject] = useState(message ? (mode === 'forward' ? prefixed('Fwd', message.subject) : prefixed('Re', message.subject)) : '');
  const [body, setBody] = useState<EditorValue>({ html: '', text: '' });
  const [clientId, setClientId] = useState(message?.clients[0]?.id ?? '');
  const [clients, setClients] = useState<ClientListItem[]>(message?.clients.map((c) => ({ id: c.id, name: c.name, taxId: null, contacts: 0, notify: false, sync: false, owner: null, restricted: false })) ?? []);
  const [documents, setDocuments] = useState<DocumentView[] | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [state, setState] = useState<SendState>({ phase: 'idle' });
  const [missing, setMissing] = useState<'to' | 'body' | null>(null);
  const [uploading, setUploading] = useState(false);
  const [uploadFailure, setUploadFailure] = useState<unknown>(null);
  const isReply = mode === 'reply' || mode === 'replyAll';
  const editorId = `compose-body-${mode}`;
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    listMailAccounts()
      .then((items) => {
        // The user's own mailboxes first: shared ones are many and rarely the one meant.
        const sorted = [...items.filter((a) => a.owner.id === user.id), ...items.filter((a) => a.owner.id !== user.id)];
        setAccounts(sorted);
        const through = message?.folders.map((f) => f.accountId).find((id) => items.some((a) => a.id === id));
        setAccountId(through ?? sorted[0]?.id ?? '');
      })
      .catch((error: unknown) => setState({ phase: 'error', error }));
    if (!message?.clients.length) {
      listClients('').then(setClients).catch(() => setClients([]));
    }
  }, [message, user.id]);

  useEffect(() => {
    setPicked([]);
    if (!clientId) return setDocuments(null);
    let live = true;
    listClientDocuments(clientId)
      .then((docs) => live && setDocuments(docs.filter((d) => d.status === 'saved')))
      .catch(() => live && setDocuments([]));
    return () => {
      live = false;
    };
  }, [clientId]);

  // Follow the queued message until the worker has sent it or given up.
  const outboxId = state.phase === 'tracking' ? state.outboxId : null;
  useEffect(() => {
    if (!outboxId) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const outbox = await getOutbox(outboxId);
        if (!live) return;
        setState({ phase: 'tracking', outboxId, outbox });
        if (outbox.status === 'sent') return onSent?.(outbox);
        if (outbox.status === 'failed') return;
      } catch {
        // A blip while polling is not a failed send: keep asking.
      }
      if (live) timer = setTimeout(poll, 1000);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [outboxId]);

  // Uploads become the client's documents (the firm keeps what it sent) and are ticked for this message.
  const onUpload = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const files = [...(input.files ?? [])];
    if (!clientId || files.length === 0) return;
    setUploading(true);
    setUploadFailure(null);
    try {
      const added = await uploadClientDocuments(clientId, files);
      setDocuments((prev) => [...(prev ?? []), ...added]);
      setPicked((prev) => [...prev, ...added.map((d) => d.id)]);
      input.value = '';
    } catch (error) {
      setUploadFailure(error);
    } finally {
      setUploading(false);
    }
  };

  const own = new Set((accounts ?? []).map((a) => a.email.toLowerCase()));
  const sending = state.phase === 'queueing' || (state.phase === 'tracking' && (state.outbox === null || state.outbox.status === 'queued' || state.outbox.status === 'sending'));
  const sent = state.phase === 'tracking' && state.outbox?.status === 'sent';

  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (sending || sent) return;
    if (!isReply && addressList(to).length === 0) return setMissing('to');
    if (!body.text.trim() && picked.length === 0 && mode !== 'forward') return setMissing('body');
    setMissing(null);
    setState({ phase: 'queueing' });
    const html = body.html || undefined;
    const text = body.text.trim() ? body.text : undefined;
    const documentIds = picked.length ? picked : undefined;
    try {
      const { outboxId: id } = isReply && message
        ? await sendReply(message.id, { accountId: accountId || undefined, html, text, replyAll: mode === 'replyAll', documentIds })
        : await sendMessage({
            accountId, to: addressList(to), cc: addressList(cc).length ? addressList(cc) : undefined, subject, html, text, documentIds,
            clientId: clientId || undefined, forwardMessageId: mode === 'forward' ? message?.id : undefined,
          });
      setState({ phase: 'tracking', outboxId: id, outbox: null });
    } catch (error) {
      setState({ phase: 'error', error });
    }
  };

  const title = { reply: t('compose.reply'), replyAll: t('compose.replyAll'), forward: t('compose.forward'), new: t('compose.new') }[mode];
  const status = state.phase === 'tracking' ? state.outbox?.status ?? 'queued' : null;

  return (
    <section class="compose card" aria-labelledby={`${editorId}-title`}>
      <h2 id={`${editorId}-title`} ref={heading} tabIndex={-1}>{title}</h2>
      <form class="form compose-form" noValidate onSubmit={onSubmit}>
        <div class="compose-grid">
          <label for={`${editorId}-from`}>{t('compose.from')}</label>
          <select id={`${editorId}-from`} value={accountId} onChange={(e) => setAccountId(e.currentTarget.value)} disabled={!accounts || sending || sent}>
            {(accounts ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} &lt;{a.email}&gt;
              </option>
            ))}
          </select>
          {isReply && message ? (
            <>
              <span class="compose-label">{t('compose.to')}</span>
              <p class="compose-recipients">{replyRecipients(message, mode === 'replyAll', own) || t('compose.recipientsFromServer')}</p>
              <span class="compose-label">{t('compose.subject')}</span>
              <p class="compose-recipients">{subject}</p>
            </>
          ) : (
            <>
              <label for={`${editorId}-to`}>{t('compose.to')}</label>
              <div>
                <input
                  id={`${editorId}-to`}
                  type="text"
                  inputMode="email"
                  autoComplete="off"
                  value={to}
                  autoFocus
                  placeholder={t('compose.addressesHint')}
                  aria-invalid={missing === 'to' || undefined}
                  aria-describedby={missing === 'to' ? `${editorId}-to-error` : undefined}
                  onInput={(e) => {
                    setTo(e.currentTarget.value);
                    if (missing === 'to') setMissing(null);
                  }}
                />
                {missing === 'to' && (
                  <p id={`${editorId}-to-error`} class="field-error">
                    {t('compose.toRequired')}
                  </p>
                )}
              </div>
              <label for={`${editorId}-cc`}>{t('compose.cc')}</label>
              <input id={`${editorId}-cc`} type="text" inputMode="email" autoComplete="off" value={cc} onInput={(e) => setCc(e.currentTarget.value)} />
              <label for={`${editorId}-subject`}>{t('compose.subject')}</label>
              <input id={`${editorId}-subject`} type="text" value={subject} onInput={(e) => setSubject(e.currentTarget.value)} />
            </>
          )}
        </div>

        <div class="field">
          <span id={`${editorId}-label`} class="compose-label">
            {t('compose.message')}
          </span>
          <ComposeEditor
            id={editorId}
            labelledBy={`${editorId}-label`}
            onChange={(value) => {
              setBody(value);
              if (missing === 'body' && value.text.trim()) setMissing(null);
            }}
          />
          {missing === 'body' && <p class="field-error">{t('compose.bodyRequired')}</p>}
          {mode === 'forward' && <p class="muted">{t('compose.forwardNote')}</p>}
        </div>

        {user.signature.trim() ? (
          <div class="compose-signature">
            <span class="compose-label">{t('compose.signature')}</span>
            <pre>{`-- \n${user.signature.trim()}`}</pre>
          </div>
        ) : (
          <p class="muted">{t('compose.noSignature')}</p>
        )}

        <fieldset class="compose-docs">
          <legend>{t('compose.attachDocuments')}</legend>
          <div class="field">
            <label for={`${editorId}-client`}>{t('compose.client')}</label>
            <select id={`${editorId}-client`} value={clientId} onChange={(e) => setClientId(e.currentTarget.value)}>
              <option value="">{t('compose.noClient')}</option>
              {clients.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
          {clientId ? (
            <div class="field">
              <label for={`${editorId}-upload`}>{t('compose.upload')}</label>
              <input id={`${editorId}-upload`} type="file" multiple onChange={(e) => void onUpload(e)} disabled={uploading} aria-describedby={`${editorId}-upload-note`} />
              <p id={`${editorId}-upload-note`} class="muted">
                {uploading ? t('compose.uploading') : t('compose.uploadNote')}
              </p>
              {uploadFailure !== null && (
                <p class="field-error" role="alert">
                  {describeError(t, uploadFailure)}
                </p>
              )}
            </div>
          ) : (
            <p class="muted">{t('compose.chooseClientToUpload')}</p>
          )}
          {documents && documents.length === 0 && <p class="muted">{t('compose.noDocuments')}</p>}
          {documents && documents.length > 0 && (
            <ul class="compose-doc-list">
              {documents.map((d) => (
                <li key={d.id}>
                  <label>
                    <input
                      type="checkbox"
                      checked={picked.includes(d.id)}
                      onChange={(e) => setPicked(e.currentTarget.checked ? [...picked, d.id] : picked.filter((p) => p !== d.id))}
                    />{' '}
                    {d.name}
                  </label>
                </li>
              ))}
            </ul>
          )}
        </fieldset>

        <div role="status" aria-live="polite" class="compose-status">
          {state.phase === 'queueing' && <p>{t('compose.queueing')}</p>}
          {status === 'queued' && <p>{t('compose.statusQueued')}</p>}
          {status === 'sending' && <p>{t('compose.statusSending')}</p>}
          {status === 'sent' && <p class="compose-sent">{t('compose.statusSent')}</p>}
        </div>
        {state.phase === 'tracking' && state.outbox?.status === 'failed' && (
          <div class="alert alert-error" role="alert">
            <p>
              {t('compose.statusFailed')} {state.outbox.error}
            </p>
          </div>
        )}
        {state.phase === 'tracking' && state.outbox?.status !== 'failed' && state.outbox?.error && <p class="muted">{state.outbox.error}</p>}
        {state.phase === 'error' && (
          <div class="alert alert-error" role="alert">
            <p>{describeError(t, state.error)}</p>
          </div>
        )}

        <div class="compose-actions">
          {!sent && (
            <button type="submit" class="btn btn-primary" aria-disabled={sending || !accountId}>
              {sending ? t('compose.sending') : t('compose.send')}
            </button>
          )}
          <button type="button" class="btn" onClick={onClose}>
            {sent ? t('compose.close') : t('compose.discard')}
          </button>
        </div>
      </form>
    </section>
  );
}
