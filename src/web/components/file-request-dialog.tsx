// The New file request dialog (Caseware's, by email): 1 client and contacts (addresses that cannot get
// requests are greyed out with the reason), 2 subject, description, checklist, documents, due date,
// 3 additional message and reminders, with a preview of each recipient's mail before sending.
import { useEffect, useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { ClientListItem, DocumentPage } from '../../server/schemas/crm.ts';
import type { FileRequestCreated, FileRequestPreview, FileRequestSettings, RecipientChoices } from '../../server/schemas/file-requests.ts';
import { getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { Dialog, ErrorAlert, useAction, useDebounced, useLoad } from './client-ui.tsx';

type Choice = Static<typeof RecipientChoices>['items'][number];
type Preview = Static<typeof FileRequestPreview>['items'][number];

export function FileRequestDialog({ clientId: fixedClient, onClose, onSent }: { clientId?: string; onClose: () => void; onSent: (id: string) => void }) {
  const { t } = useI18n();
  const [step, setStep] = useState<1 | 2 | 3>(1);
  const [q, setQ] = useState('');
  const query = useDebounced(q.trim(), 250);
  const [client, setClient] = useState<{ id: string; name: string } | null>(fixedClient ? { id: fixedClient, name: '' } : null);
  const [recipients, setRecipients] = useState<Set<string>>(new Set());
  const [subject, setSubject] = useState('');
  const [description, setDescription] = useState('');
  const [itemsText, setItemsText] = useState('');
  const [documentIds, setDocumentIds] = useState<Set<string>>(new Set());
  const [dueDate, setDueDate] = useState('');
  const [message, setMessage] = useState('');
  const [reminders, setReminders] = useState<{ count: number; intervalDays: number } | null>(null);
  const [previews, setPreviews] = useState<Preview[] | null>(null);
  const action = useAction();

  const clients = useLoad((signal) => (client ? Promise.resolve({ items: [], nextCursor: null }) : getJson<{ items: ClientListItem[] }>('/clients', { q: query || undefined, limit: 20 }, signal)), [query, client?.id]);
  const choices = useLoad((signal) => (client ? getJson<Static<typeof RecipientChoices>>(`/clients/${client.id}/file-request-recipients`, undefined, signal) : Promise.resolve({ items: [] as Choice[] })), [client?.id]);
  const docs = useLoad((signal) => (client ? getJson<Static<typeof DocumentPage>>(`/clients/${client.id}/documents`, { limit: 200 }, signal) : Promise.resolve({ items: [], nextCursor: null })), [client?.id]);
  const defaults = useLoad((signal) => getJson<Static<typeof FileRequestSettings>>('/settings/file-requests', undefined, signal), []);
  // A client with one contact address that can get requests: that one is chosen already.
  useEffect(() => {
    const eligible = (choices.data?.items ?? []).filter((c) => c.eligible);
    if (eligible.length === 1) setRecipients((prev) => (prev.size === 0 ? new Set([eligible[0]!.address]) : prev));
  }, [choices.data]);
  const rem = reminders ?? (defaults.data ? { count: defaults.data.reminderCount, intervalDays: defaults.data.reminderIntervalDays } : { count: 1, intervalDays: 3 });

  const body = () => ({
    clientId: client!.id,
    recipients: [...recipients],
    subject,
    description,
    message,
    items: itemsText.split('\n').map((s) => s.trim()).filter(Boolean),
    documentIds: [...documentIds],
    dueDate: dueDate || null,
    reminders: rem,
  });
  const toggle = (set: Set<string>, value: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(value);
    else next.delete(value);
    return next;
  };

  return (
    <Dialog title={t('requests.dialog.title')} onClose={onClose} wide>
      <p class="muted">{t('requests.dialog.step', { step, of: 3 })}</p>
      <ErrorAlert error={action.error ?? choices.error} />
      {step === 1 && (
        <div class="stack">
          {!client ? (
            <div class="field">
              <label for="fr-client">{t('requests.dialog.client')}</label>
              <input id="fr-client" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
              <ul class="plain-list">
                {(clients.data?.items ?? []).map((c) => (
                  <li key={c.id}>
                    <button type="button" class="btn btn-ghost" onClick={() => setClient({ id: c.id, name: c.name })}>
                      {c.name}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          ) : (
            <fieldset>
              <legend>
                {t('requests.dialog.contacts')} {client.name && `· ${client.name}`}{' '}
                {!fixedClient && (
                  <button type="button" class="btn btn-ghost btn-small" onClick={() => { setClient(null); setRecipients(new Set()); }}>
                    {t('requests.dialog.changeClient')}
                  </button>
                )}
              </legend>
              {choices.data?.items.length === 0 && <p class="muted">{t('requests.dialog.noContacts')}</p>}
              {(choices.data?.items ?? []).map((c) => (
                <div key={c.contactEmailId} class={c.eligible ? '' : 'muted'}>
                  <label>
                    <input type="checkbox" disabled={!c.eligible} checked={recipients.has(c.address)} onChange={(e) => setRecipients(toggle(recipients, c.address, e.currentTarget.checked))} />{' '}
                    {c.contactName} &lt;{c.address}&gt; · {t(`language.${c.language}`)}
                  </label>
                  {c.reason && <span> — {t(`requests.dialog.reasons.${c.reason}`)}</span>}
                </div>
              ))}
            </fieldset>
          )}
          <div class="toolbar">
            <button type="button" class="btn btn-primary" disabled={!client || recipients.size === 0} onClick={() => setStep(2)}>
              {t('requests.dialog.next')}
            </button>
          </div>
        </div>
      )}
      {step === 2 && (
        <div class="stack">
          <div class="field">
            <label for="fr-subject">{t('requests.subject')}</label>
            <input id="fr-subject" value={subject} maxLength={300} onInput={(e) => setSubject(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="fr-description">{t('requests.dialog.description')}</label>
            <textarea id="fr-description" rows={4} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
            <p class="muted">{t('requests.dialog.plainText')}</p>
          </div>
          <div class="field">
            <label for="fr-items">{t('requests.dialog.itemsLabel')}</label>
            <textarea id="fr-items" rows={4} value={itemsText} placeholder={t('requests.dialog.itemsPlaceholder')} onInput={(e) => setItemsText(e.currentTarget.value)} />
          </div>
          {(docs.data?.items ?? []).some((d) => d.status === 'saved') && (
            <fieldset>
              <legend>{t('requests.dialog.attach')}</legend>
              {(docs.data?.items ?? []).filter((d) => d.status === 'saved').map((d) => (
                <label key={d.id} class="block">
                  <input type="checkbox" checked={documentIds.has(d.id)} onChange={(e) => setDocumentIds(toggle(documentIds, d.id, e.currentTarget.checked))} /> {d.name}
                </label>
              ))}
            </fieldset>
          )}
          <div class="field">
            <label for="fr-due">{t('requests.dialog.dueDate')}</label>
            <input id="fr-due" type="date" value={dueDate} onInput={(e) => setDueDate(e.currentTarget.value)} />
          </div>
          <div class="toolbar">
            <button type="button" class="btn" onClick={() => setStep(1)}>
              {t('requests.dialog.back')}
            </button>
            <button type="button" class="btn btn-primary" disabled={!subject.trim()} onClick={() => setStep(3)}>
              {t('requests.dialog.next')}
            </button>
          </div>
        </div>
      )}
      {step === 3 && (
        <div class="stack">
          <div class="field">
            <label for="fr-message">{t('requests.dialog.message')}</label>
            <textarea id="fr-message" rows={3} value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
          </div>
          <div class="toolbar">
            <div class="field field-inline">
              <label for="fr-rem-count">{t('requests.dialog.reminderCount')}</label>
              <input id="fr-rem-count" type="number" min={0} max={10} value={rem.count} onInput={(e) => setReminders({ ...rem, count: Number(e.currentTarget.value) })} />
            </div>
            <div class="field field-inline">
              <label for="fr-rem-days">{t('requests.dialog.reminderDays')}</label>
              <input id="fr-rem-days" type="number" min={1} max={365} value={rem.intervalDays} onInput={(e) => setReminders({ ...rem, intervalDays: Number(e.currentTarget.value) })} />
            </div>
          </div>
          {previews && (
            <section aria-label={t('requests.dialog.preview')}>
              {previews.map((p) => (
                <article key={p.address} class="card">
                  <h3>
                    {p.address} · {t(`language.${p.language}`)}
                  </h3>
                  <p>
                    <strong>{p.subject}</strong>
                  </p>
                  <pre style={{ whiteSpace: 'pre-wrap' }}>{p.text}</pre>
                </article>
              ))}
            </section>
          )}
          <div class="toolbar">
            <button type="button" class="btn" onClick={() => setStep(2)}>
              {t('requests.dialog.back')}
            </button>
            <button type="button" class="btn" disabled={action.busy} onClick={() => action.run(async () => setPreviews((await postJson<Static<typeof FileRequestPreview>>('/file-requests/preview', body())).items))}>
              {t('requests.dialog.preview')}
            </button>
            <button
              type="button"
              class="btn btn-primary"
              disabled={action.busy}
              onClick={() => action.run(async () => onSent((await postJson<Static<typeof FileRequestCreated>>('/file-requests', body())).request.id))}
            >
              {t('requests.dialog.send')}
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
