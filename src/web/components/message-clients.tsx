// A message's clients: chips with unfile, "File to client…", "Add sender as contact of…", and the reason and
// area of each client's log record for it (the only fields of an email record staff may change).
import { useEffect, useState } from 'preact/hooks';
import type { TFunction } from 'i18next';
import { useI18n } from '../i18n/context.tsx';
import { describeError } from '../i18n/describe-error.ts';
import { FileToClientDialog, type ClientAction } from './file-to-client.tsx';
import {
  addSenderAsContact, fileMessage, findMessageRecord, listAreas, listReasons, tagRecord, unfileMessage,
  type CommunicationView, type MessageSummary, type TagView,
} from './message-api.ts';
import { MailIcon } from './message-icons.tsx';

// Reasons and areas change rarely: one request per page load, shared by every message of a thread.
let tagLists: Promise<{ reasons: TagView[]; areas: TagView[] }> | null = null;
function loadTagLists() {
  tagLists ??= Promise.all([listReasons(), listAreas()]).then(([reasons, areas]) => ({ reasons, areas }));
  tagLists.catch(() => {
    tagLists = null;
  });
  return tagLists;
}

export function MessageClients({ message, onChange, action, onAction }: {
  message: MessageSummary;
  /** The message's clients changed (filed, unfiled, a contact added): reload it. */
  onChange: () => void;
  /** The open picker, owned by the caller so the f shortcut can open it too. */
  action: ClientAction | null;
  onAction: (action: ClientAction | null) => void;
}) {
  const { t } = useI18n();
  // A sentence built at render time, so it follows a change of language.
  const [notice, setNotice] = useState<((tr: TFunction) => string) | null>(null);
  const say = (sentence: (tr: TFunction) => string) => setNotice(() => sentence);
  const [failure, setFailure] = useState<unknown>(null);

  const unfile = async (clientId: string, name: string) => {
    setFailure(null);
    try {
      await unfileMessage(message.id, clientId);
      say((tr) => tr('message.unfiled', { client: name }));
      onChange();
    } catch (error) {
      setFailure(error);
    }
  };

  return (
    <div class="message-clients">
      <div class="chip-row">
        <span class="compose-label">{t('message.clients')}</span>
        {message.clients.length === 0 && <span class="muted">{t('message.unfiledNone')}</span>}
        <ul class="chips" aria-label={t('message.clients')}>
          {message.clients.map((c) => (
            <li key={c.id} class="chip">
              <a href={`/clients/${c.id}`}>{c.name}</a>
              <button type="button" class="chip-remove" aria-label={t('message.unfileFrom', { client: c.name })} title={t('message.unfileFrom', { client: c.name })} onClick={() => void unfile(c.id, c.name)}>
                <MailIcon name="close" size={14} />
              </button>
            </li>
          ))}
        </ul>
        <button type="button" class="btn btn-small" onClick={() => onAction('file')}>
          <MailIcon name="folder" size={16} />
          {t('message.fileToClient')}
        </button>
        {message.from && message.direction === 'inbound' && (
          <button type="button" class="btn btn-small" onClick={() => onAction('addContact')}>
            <MailIcon name="userPlus" size={16} />
            {t('message.addSenderAsContact')}
          </button>
        )}
      </div>
      <p role="status" aria-live="polite" class="muted notice">
        {notice?.(t)}
      </p>
      {failure !== null && (
        <p class="field-error" role="alert">
          {describeError(t, failure)}
        </p>
      )}
      {message.clients.length > 0 && (
        <div class="record-tags">
          {message.clients.map((c) => (
            <RecordTags key={c.id} clientId={c.id} clientName={c.name} message={message} />
          ))}
        </div>
      )}
      {action && (
        <FileToClientDialog
          action={action}
          subject={message.subject}
          sender={message.from?.address}
          exclude={message.clients.map((c) => c.id)}
          onClose={() => onAction(null)}
          onPick={async (client) => {
            if (action === 'file') {
              await fileMessage(message.id, client.id);
              say((tr) => tr('message.filed', { client: client.name }));
            } else {
              const result = await addSenderAsContact(message.id, client.id);
              say((tr) => tr('message.contactAdded', { address: result.address, client: client.name, count: result.filed }));
            }
            onAction(null);
            onChange();
          }}
        />
      )}
    </div>
  );
}

/** Reason and area of one client's log record for this message. */
function RecordTags({ clientId, clientName, message }: { clientId: string; clientName: string; message: MessageSummary }) {
  const { t } = useI18n();
  const [record, setRecord] = useState<CommunicationView | null | undefined>(undefined);
  const [lists, setLists] = useState<{ reasons: TagView[]; areas: TagView[] } | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    Promise.all([findMessageRecord(clientId, message), loadTagLists()])
      .then(([found, tags]) => {
        if (!live) return;
        setRecord(found);
        setLists(tags);
      })
      .catch((error: unknown) => live && setFailure(error));
    return () => {
      live = false;
    };
  }, [clientId, message.id]);

  if (record === null) return null;
  const save = async (patch: { reasonId?: string | null; areaId?: string | null }) => {
    if (!record) return;
    setSaving(true);
    setSaved(false);
    setFailure(null);
    try {
      setRecord(await tagRecord(record.id, patch));
      setSaved(true);
    } catch (error) {
      setFailure(error);
    } finally {
      setSaving(false);
    }
  };
  const idBase = `tags-${message.id}-${clientId}`;
  // Inactive tags are not offered, but a record keeps showing the one it already has.
  const options = (items: TagView[], current: { id: string; name: string } | null) => [
    ...items.filter((i) => i.active),
    ...(current && !items.some((i) => i.id === current.id && i.active) ? [{ id: current.id, name: current.name }] : []),
  ];
  return (
    <fieldset class="record-tag-row" aria-busy={saving || record === undefined}>
      <legend>{t('message.logRecordFor', { client: clientName })}</legend>
      {record === undefined || !lists ? (
        <span class="muted">{failure ? describeError(t, failure) : t('app.loading')}</span>
      ) : (
        <>
          <label for={`${idBase}-reason`}>{t('message.reason')}</label>
          <select id={`${idBase}-reason`} value={record.reason?.id ?? ''} disabled={saving} onChange={(e) => void save({ reasonId: e.currentTarget.value || null })}>
            <option value="">{t('message.none')}</option>
            {options(lists.reasons, record.reason).map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
          <label for={`${idBase}-area`}>{t('message.area')}</label>
          <select id={`${idBase}-area`} value={record.area?.id ?? ''} disabled={saving} onChange={(e) => void save({ areaId: e.currentTarget.value || null })}>
            <option value="">{t('message.none')}</option>
            {options(lists.areas, record.area).map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
          <span role="status" class="muted">
            {saved ? t('message.tagsSaved') : ''}
          </span>
          {failure !== null && (
            <span class="field-error" role="alert">
              {describeError(t, failure)}
            </span>
          )}
        </>
      )}
    </fieldset>
  );
}
