// "Share documents" on a client's Documents tab: pick documents and contacts (only addresses with notify
// and the "documents" category; the others say why), an expiry (1–90 days) and a note; each contact gets
// their own email with personal download links. Only documents visible to the client are offered (mark a hidden
// one visible on the Documents tab first); the server also makes any shared document visible. "Shares"
// lists the client's shares with who downloaded which file when, and revokes one.
import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { ClientShareList, ContactAddressList, ShareCreated } from '../../server/schemas/collaboration.ts';
import type { DocumentPage } from '../../server/schemas/crm.ts';
import { deleteJson, getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { Dialog, ErrorAlert, useAction, useLoad } from './client-ui.tsx';
import { addressProblem } from './discussion-tab.tsx';

export function ShareButton({ clientId, onShared }: { clientId: string; onShared: () => void }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [listing, setListing] = useState(false);
  return (
    <div class="share-actions">
      <button type="button" class="btn" onClick={() => setOpen(true)}>
        {t('shares.open')}
      </button>{' '}
      <button type="button" class="btn" onClick={() => setListing(true)}>
        {t('shares.list')}
      </button>
      {open && <ShareDialog clientId={clientId} onClose={() => setOpen(false)} onShared={onShared} />}
      {listing && <SharesDialog clientId={clientId} onClose={() => setListing(false)} />}
    </div>
  );
}

function SharesDialog({ clientId, onClose }: { clientId: string; onClose: () => void }) {
  const { t, formatDate } = useI18n();
  const list = useLoad((signal) => getJson<Static<typeof ClientShareList>>(`/clients/${clientId}/shares`, undefined, signal), [clientId]);
  const revoke = useAction();
  const when = (iso: string) => formatDate(iso, { dateStyle: 'medium', timeStyle: 'short' });
  return (
    <Dialog title={t('shares.list')} onClose={onClose} wide>
      <ErrorAlert error={list.error ?? revoke.error} />
      {list.data?.items.length === 0 && <p class="muted">{t('shares.none')}</p>}
      {list.data?.items.map((s) => (
        <article key={s.id} class="card share-card">
          <p>
            <strong>{s.documents.map((d) => d.name).join(', ')}</strong>
            <br />
            <span class="muted">{t(`shares.status.${s.status}`, { date: when(s.status === 'revoked' ? s.revokedAt ?? s.expiresAt : s.expiresAt) })}</span>
          </p>
          <ul>
            {s.recipients.map((r) => (
              <li key={r.id}>
                {r.name ? `${r.name} <${r.address}>` : r.address}:{' '}
                {r.downloads.length === 0
                  ? t('shares.notDownloaded')
                  : r.downloads.map((d) => `${s.documents.find((x) => x.id === d.documentId)?.name ?? ''} (${when(d.at)})`).join(', ')}
              </li>
            ))}
          </ul>
          {s.status === 'active' && (
            <button
              type="button"
              class="btn btn-small btn-danger"
              disabled={revoke.busy}
              onClick={async () => {
                if (window.confirm(t('shares.revokeConfirm')) && (await revoke.run(() => deleteJson(`/shares/${s.id}`)))) list.reload();
              }}
            >
              {t('shares.revoke')}
            </button>
          )}
        </article>
      ))}
    </Dialog>
  );
}

function ShareDialog({ clientId, onClose, onShared }: { clientId: string; onClose: () => void; onShared: () => void }) {
  const { t, formatDate } = useI18n();
  const docs = useLoad((signal) => getJson<Static<typeof DocumentPage>>(`/clients/${clientId}/documents`, { limit: 200, visible: true }, signal), [clientId]);
  const addresses = useLoad((signal) => getJson<Static<typeof ContactAddressList>>(`/clients/${clientId}/contact-addresses`, undefined, signal), [clientId]);
  const [documentIds, setDocumentIds] = useState<string[]>([]);
  const [contactEmailIds, setContactEmailIds] = useState<string[]>([]);
  const [days, setDays] = useState(14);
  const [message, setMessage] = useState('');
  const [done, setDone] = useState<Static<typeof ShareCreated> | null>(null);
  const send = useAction();
  const toggle = (set: (f: (l: string[]) => string[]) => void, id: string, on: boolean) => set((list) => (on ? [...list, id] : list.filter((x) => x !== id)));
  const submit = async (event: Event) => {
    event.preventDefault();
    let created: Static<typeof ShareCreated> | null = null;
    const ok = await send.run(async () => {
      created = await postJson<Static<typeof ShareCreated>>(`/clients/${clientId}/shares`, { documentIds, contactEmailIds, expiresInDays: days, ...(message.trim() ? { message } : {}) });
    });
    if (ok && created) {
      setDone(created);
      onShared();
    }
  };
  if (done) {
    return (
      <Dialog title={t('shares.title')} onClose={onClose}>
        <p role="status">{t('shares.sent', { count: done.outboxIds.length, date: formatDate(done.expiresAt, { dateStyle: 'medium', timeStyle: 'short' }) })}</p>
        <div class="form-actions">
          <button type="button" class="btn btn-primary" onClick={onClose}>
            {t('client.close')}
          </button>
        </div>
      </Dialog>
    );
  }
  const saved = (docs.data?.items ?? []).filter((d) => d.status === 'saved');
  return (
    <Dialog title={t('shares.title')} onClose={onClose} wide>
      <form class="form" onSubmit={submit}>
        <fieldset>
          <legend>{t('shares.documents')}</legend>
          <ErrorAlert error={docs.error} />
          {docs.data && saved.length === 0 && <p class="muted">{t('shares.noDocuments')}</p>}
          {saved.map((d) => (
            <label key={d.id} class="check">
              <input type="checkbox" checked={documentIds.includes(d.id)} onChange={(e) => toggle(setDocumentIds, d.id, e.currentTarget.checked)} />
              <span>{d.name}</span>
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>{t('shares.recipients')}</legend>
          <ErrorAlert error={addresses.error} />
          {addresses.data?.items.map((a) => {
            const problem = addressProblem(a, 'documents');
            return (
              <label key={a.contactEmailId} class="check">
                <input type="checkbox" disabled={problem !== null} checked={contactEmailIds.includes(a.contactEmailId)} onChange={(e) => toggle(setContactEmailIds, a.contactEmailId, e.currentTarget.checked)} />
                <span>
                  {a.contactName} &lt;{a.address}&gt;
                  {problem && <span class="muted"> — {t(`shares.reason.${problem}`)}</span>}
                </span>
              </label>
            );
          })}
        </fieldset>
        <label for="share-days">{t('shares.expires')}</label>
        <input id="share-days" type="number" min={1} max={90} required value={days} onInput={(e) => setDays(Number(e.currentTarget.value))} />
        <label for="share-message">{t('shares.message')}</label>
        <textarea id="share-message" rows={3} maxLength={10_000} value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
        <p class="muted">{t('shares.hint')}</p>
        <ErrorAlert error={send.error} />
        <div class="form-actions">
          <button type="button" class="btn" onClick={onClose}>
            {t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={send.busy || !documentIds.length || !contactEmailIds.length || !(days >= 1 && days <= 90)}>
            {send.busy ? t('shares.sending') : t('shares.send')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
