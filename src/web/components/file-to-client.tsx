// "File to client" and "Add sender as contact of…": a dialog to search the firm's clients and pick one.
// The action itself is the caller's (file, add contact); this shows progress and the server's answer.
import { useEffect, useState } from 'preact/hooks';
import { useI18n } from '../i18n/context.tsx';
import { describeError } from '../i18n/describe-error.ts';
import { listClients, type ClientListItem } from './message-api.ts';
import { MessageDialog } from './message-dialog.tsx';

export type ClientAction = 'file' | 'addContact';

export function FileToClientDialog({ action, subject, sender, exclude = [], onPick, onClose }: {
  action: ClientAction;
  subject: string;
  sender?: string;
  /** Clients the message is already filed to (not offered again for filing). */
  exclude?: string[];
  onPick: (client: ClientListItem) => Promise<void>;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [clients, setClients] = useState<ClientListItem[] | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    // Wait for a pause in typing: one search per thought, not per key.
    const timer = setTimeout(() => {
      listClients(q, ctrl.signal)
        .then((items) => setClients(items))
        .catch((error: unknown) => {
          if (!(error instanceof DOMException)) setFailure(error);
        });
    }, q ? 200 : 0);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [q]);

  const pick = async (client: ClientListItem) => {
    setBusy(client.id);
    setFailure(null);
    try {
      await onPick(client);
    } catch (error) {
      setFailure(error);
      setBusy(null);
    }
  };

  const title = action === 'file' ? t('message.fileTitle') : t('message.addContactTitle');
  const shown = (clients ?? []).filter((c) => action !== 'file' || !exclude.includes(c.id));
  return (
    <MessageDialog title={title} onClose={onClose} labelId="client-picker-title">
      <p class="muted">{action === 'file' ? (subject.trim() ? t('message.fileIntro', { subject }) : t('message.fileIntroNoSubject')) : t('message.addContactIntro', { address: sender ?? '' })}</p>
      <div class="field">
        <label for="client-picker-search">{t('message.clientSearch')}</label>
        <input id="client-picker-search" type="search" value={q} autoFocus autoComplete="off" onInput={(e) => setQ(e.currentTarget.value)} />
      </div>
      {failure !== null && (
        <p class="field-error" role="alert">
          {describeError(t, failure)}
        </p>
      )}
      {clients === null ? (
        <p class="muted" role="status">
          {t('app.loading')}
        </p>
      ) : shown.length === 0 ? (
        <p class="muted" role="status">
          {t('message.noClients')}
        </p>
      ) : (
        <ul class="client-picker" aria-label={t('message.clientResults')}>
          {shown.map((c) => (
            <li key={c.id}>
              <button type="button" class="client-picker-item" onClick={() => void pick(c)} disabled={busy !== null} aria-busy={busy === c.id}>
                <span>{c.name}</span>
                {c.taxId && <span class="muted">{c.taxId}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </MessageDialog>
  );
}
