// Settings → mail accounts: each mailbox the user may see with its status, the last problem in plain
// words, a progress bar while it syncs, and per-folder counts; add (with the server's login check and
// the folder picker), re-enter the password, sync now, refresh all, delete. Polls while anything syncs.
import { useLiveEvent } from '../live-events.ts';
import { useEffect, useState } from 'preact/hooks';
import type { MailAccountView } from '../../server/schemas/mail-accounts.ts';
import { deleteJson, getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { useUser } from '../session.tsx';
import { ErrorAlert, useAction, useLoad } from './client-ui.tsx';
import { AccountAddDialog, AccountFoldersDialog, AccountPasswordDialog } from './account-dialogs.tsx';

type Accounts = { items: MailAccountView[] };
const FAST_POLL_MS = 1500;
/** oauthError codes with their own message; any other shows the general one. */
const KNOWN_OAUTH_ERRORS = ['access_denied', 'oauth_state_invalid', 'oauth_wrong_mailbox', 'oauth_no_email', 'imap_auth_failed', 'imap_unreachable', 'imap_check_timeout', 'invalid_grant', 'provider_not_configured'];
const SLOW_POLL_MS = 15_000;

export function AccountList() {
  const { t } = useI18n();
  const accounts = useLoad((signal) => getJson<Accounts>('/mail-accounts', undefined, signal), []);
  const [dialog, setDialog] = useState<{ kind: 'add' } | { kind: 'folders' | 'password'; account: MailAccountView } | null>(null);
  // A sync asked for a moment ago may not show as "syncing" yet: poll fast for a while after asking.
  const [watchUntil, setWatchUntil] = useState(0);
  const refresh = useAction();
  const user = useUser();
  // Your own mailboxes first, then the shared ones, each by name.
  const items = [...(accounts.data?.items ?? [])].sort((a, b) => Number(b.owner.id === user.id) - Number(a.owner.id === user.id) || a.name.localeCompare(b.name));
  const busy = items.some((a) => a.status === 'syncing' || a.progress !== null || (a.lastSyncAt === null && a.status === 'idle'));
  const { reload } = accounts;
  // Back from a provider's sign-in (GET /api/oauth/callback): what happened, once.
  const [oauthResult] = useState(() => {
    const q = new URLSearchParams(window.location.search);
    return { connected: q.get('connected'), error: q.get('oauthError') };
  });
  useEffect(() => {
    if (oauthResult.connected || oauthResult.error) window.history.replaceState(window.history.state, '', window.location.pathname);
  }, [oauthResult]);
  // Progress and status arrive on the live stream; the polls below are the fallback.
  useLiveEvent('sync', reload);

  useEffect(() => {
    const fast = busy || Date.now() < watchUntil;
    const timer = setTimeout(reload, fast ? FAST_POLL_MS : SLOW_POLL_MS);
    return () => clearTimeout(timer);
  }, [accounts.data, busy, watchUntil, reload]);

  const watch = () => {
    setWatchUntil(Date.now() + 20_000);
    reload();
  };
  const onRefreshAll = () => refresh.run(async () => {
    await postJson('/mail-accounts/sync');
    watch();
  });

  return (
    <section id="settings-accounts" class="card" aria-labelledby="settings-accounts-heading">
      <div class="section-head">
        <h2 id="settings-accounts-heading">{t('accounts.title')}</h2>
        <div class="toolbar">
          <button type="button" class="btn" onClick={onRefreshAll} disabled={refresh.busy || items.length === 0}>
            {t('accounts.refreshAll')}
          </button>
          <button type="button" class="btn btn-primary" onClick={() => setDialog({ kind: 'add' })}>
            {t('accounts.add')}
          </button>
        </div>
      </div>
      {oauthResult.connected && (
        <p class="alert alert-info" role="status">
          {t('accounts.oauth.connected')}
        </p>
      )}
      {oauthResult.error && (
        <p class="alert alert-error" role="alert">
          {t(`accounts.oauth.errors.${KNOWN_OAUTH_ERRORS.includes(oauthResult.error) ? oauthResult.error : 'oauth_failed'}` as 'accounts.oauth.errors.oauth_failed')}
        </p>
      )}
      <ErrorAlert error={accounts.data ? null : accounts.error} />
      <ErrorAlert error={refresh.error} />
      {accounts.data && items.length === 0 && <p class="muted">{t('accounts.empty')}</p>}
      {items.map((a) => (
        <AccountCard
          key={a.id}
          account={a}
          onSynced={watch}
          onDeleted={reload}
          onFolders={() => setDialog({ kind: 'folders', account: a })}
          onPassword={() => setDialog({ kind: 'password', account: a })}
        />
      ))}
      {dialog?.kind === 'add' && (
        <AccountAddDialog
          onClose={() => setDialog(null)}
          onCreated={watch}
        />
      )}
      {dialog?.kind === 'folders' && (
        <AccountFoldersDialog
          account={dialog.account}
          onClose={() => setDialog(null)}
          onSaved={() => {
            setDialog(null);
            watch();
          }}
        />
      )}
      {dialog?.kind === 'password' && (
        <AccountPasswordDialog
          account={dialog.account}
          onClose={() => setDialog(null)}
          onSaved={() => {
            setDialog(null);
            watch();
          }}
        />
      )}
    </section>
  );
}

function AccountCard({ account: a, onSynced, onDeleted, onFolders, onPassword }: { account: MailAccountView; onSynced: () => void; onDeleted: () => void; onFolders: () => void; onPassword: () => void }) {
  const { t, formatDate, formatNumber } = useI18n();
  const user = useUser();
  const action = useAction();
  const manages = a.owner.id === user.id || user.role === 'admin';
  const stored = a.folders.reduce((n, f) => n + f.storedMessages, 0);
  const onServer = a.folders.reduce((n, f) => n + f.serverMessages, 0);
  // During a folder's initial fetch the server says exactly how far it is; otherwise compare the counts.
  const done = a.progress ? a.progress.done : Math.min(stored, onServer);
  const total = a.progress ? a.progress.total : onServer;
  // Just added: until the first sync has run, nothing is known about the folders (nor "up to date").
  const starting = a.lastSyncAt === null && (a.status === 'idle' || a.status === 'syncing');
  const syncing = a.status === 'syncing' || a.progress !== null || starting;
  const status = starting ? 'syncing' : a.status;
  const headingId = `account-${a.id}`;
  const onDelete = async () => {
    if (!window.confirm(t('accounts.deleteConfirm', { email: a.email }))) return;
    if (await action.run(() => deleteJson(`/mail-accounts/${a.id}`))) onDeleted();
  };
  return (
    <article class="account" aria-labelledby={headingId}>
      <div class="section-head">
        <div>
          <h3 id={headingId}>
            {a.name} <span class="muted account-email">&lt;{a.email}&gt;</span>
          </h3>
          <p class="muted small">
            {a.visibility === 'public' ? t('accounts.public') : t('accounts.private', { owner: a.owner.name })}
            {' · '}
            {a.lastSyncAt ? t('accounts.lastSync', { date: formatDate(a.lastSyncAt, { dateStyle: 'medium', timeStyle: 'short' }) }) : t('accounts.neverSynced')}
          </p>
          <p class="muted small account-signin">
            {a.auth === 'password' ? t('accounts.signIn.password', { username: a.imap.username }) : t(`accounts.signIn.${a.auth}.${a.provider ?? 'microsoft'}`, { username: a.imap.username })}
            {a.smtp === null && ` · ${t('accounts.receiveOnly')}`}
          </p>
        </div>
        <span class={`badge account-status status-${status}`}>{t(`accounts.status.${status}`)}</span>
      </div>

      {a.lastError && (
        <div class="alert alert-error" role="alert">
          <p>
            <strong>{a.status === 'needs_reauth' ? (a.auth === 'password' ? t('accounts.reauthNeeded') : t('accounts.reconnectNeeded')) : t('accounts.lastError')}</strong> {a.lastError}
          </p>
        </div>
      )}

      <div class="sync-progress">
        <label for={`progress-${a.id}`}>
          {syncing
            ? total > 0
              ? t('accounts.progress', { done: formatNumber(done), total: formatNumber(total) })
              : t('accounts.starting')
            : t('accounts.stored', { count: stored, n: formatNumber(stored) })}
        </label>
        {syncing && total === 0 ? (
          <progress id={`progress-${a.id}`} class="progress" data-complete="false" />
        ) : (
          <progress id={`progress-${a.id}`} class="progress" value={done} max={Math.max(total, 1)} data-complete={!syncing && done >= total ? 'true' : 'false'} />
        )}
      </div>

      {a.folders.length > 0 && (
        <div class="table-wrap">
          <table class="table table-compact">
            <caption class="visually-hidden">{t('accounts.foldersOf', { email: a.email })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('accounts.folder')}</th>
                <th scope="col" class="num">{t('accounts.messages')}</th>
                <th scope="col" class="num">{t('accounts.failed')}</th>
                <th scope="col">{t('accounts.syncedAt')}</th>
              </tr>
            </thead>
            <tbody>
              {a.folders.map((f) => (
                <tr key={f.path}>
                  <th scope="row">
                    {f.path}
                    {f.role !== 'other' && <span class="badge">{t(`accounts.role.${f.role}`)}</span>}
                  </th>
                  <td class="num">{t('accounts.count', { stored: formatNumber(f.storedMessages), server: formatNumber(f.serverMessages) })}</td>
                  <td class="num">{formatNumber(f.failedMessages)}</td>
                  <td>{f.syncedAt ? formatDate(f.syncedAt, { dateStyle: 'short', timeStyle: 'short' }) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <ErrorAlert error={action.error} />
      <div class="toolbar">
        <button
          type="button"
          class="btn btn-small"
          disabled={action.busy}
          onClick={() =>
            action.run(async () => {
              await postJson(`/mail-accounts/${a.id}/sync`);
              onSynced();
            })
          }
        >
          {t('accounts.syncNow')}
        </button>
        {manages && (
          <>
            {a.auth === 'oauth2' ? (
              <button
                type="button"
                class={`btn btn-small${a.status === 'needs_reauth' ? ' btn-primary' : ''}`}
                disabled={action.busy}
                onClick={() =>
                  action.run(async () => {
                    // Back to the provider's sign-in; the callback brings the browser back to Settings.
                    const { authorizeUrl } = await postJson<{ authorizeUrl: string }>(`/mail-accounts/${a.id}/oauth`);
                    window.location.assign(authorizeUrl);
                  })
                }
              >
                {t('accounts.reconnect')}
              </button>
            ) : a.auth === 'password' ? (
              <button type="button" class={`btn btn-small${a.status === 'needs_reauth' ? ' btn-primary' : ''}`} onClick={onPassword}>
                {t('accounts.reenterPassword')}
              </button>
            ) : null}
            <button type="button" class="btn btn-small" onClick={onFolders}>
              {t('accounts.chooseFolders')}
            </button>
            <button type="button" class="btn btn-small btn-danger" onClick={onDelete} disabled={action.busy}>
              {t('client.delete')}
            </button>
          </>
        )}
      </div>
    </article>
  );
}
