// The mail-account dialogs: add a mailbox (the server checks the login before saving; a refusal is
// shown with the mail server's own words), then pick the folders to sync; choose folders later; and
// re-enter the password when the server stopped accepting it.
import { useState } from 'preact/hooks';
import type { MailAccountView, ServerFolderView } from '../../server/schemas/mail-accounts.ts';
import { ApiError, getJson, patchJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { useUser } from '../session.tsx';
import { Dialog, ErrorAlert, Switch, useAction, useLoad } from './client-ui.tsx';

/** A refused connection check in the user's language, followed by what the mail server said. */
function CheckError({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (error instanceof ApiError && error.code.startsWith('smtp_')) {
    // The server already leads with a hint in the user's language, then the SMTP server's reply.
    return (
      <div class="alert alert-error" role="alert">
        <p>
          <strong>{t('accounts.error.smtp')}</strong> {error.message}
        </p>
      </div>
    );
  }
  if (error instanceof ApiError && (error.code === 'imap_auth_failed' || error.code === 'imap_unreachable')) {
    return (
      <div class="alert alert-error" role="alert">
        <p>
          <strong>{error.code === 'imap_auth_failed' ? t('accounts.error.auth') : t('accounts.error.unreachable')}</strong>{' '}
          {t('accounts.error.serverSaid', { message: error.message })}
        </p>
      </div>
    );
  }
  return <ErrorAlert error={error} />;
}

/** Implicit TLS (secure), STARTTLS, or plain text (explicitly, for a server on a trusted network). */
type Security = 'tls' | 'starttls' | 'none';
type Server = { host: string; port: string; security: Security; username: string; password: string };
const DEFAULT_PORTS: Record<'imap' | 'smtp', Record<Security, string>> = {
  imap: { tls: '993', starttls: '143', none: '143' },
  smtp: { tls: '465', starttls: '587', none: '25' },
};

function ServerFields({ prefix, legend, value, onChange, credentials = true }: { prefix: string; legend: string; value: Server; onChange: (s: Server) => void; credentials?: boolean }) {
  const { t } = useI18n();
  const set = (key: keyof Server) => (e: Event) => onChange({ ...value, [key]: (e.currentTarget as HTMLInputElement).value });
  return (
    <fieldset class="server-fields">
      <legend>{legend}</legend>
      <div class="form-row">
        <div class="field field-grow">
          <label for={`${prefix}-host`}>{t('accounts.host')}</label>
          <input id={`${prefix}-host`} type="text" autoCapitalize="none" spellcheck={false} value={value.host} onInput={set('host')} required />
        </div>
        <div class="field field-port">
          <label for={`${prefix}-port`}>{t('accounts.port')}</label>
          <input id={`${prefix}-port`} type="text" inputMode="numeric" value={value.port} onInput={set('port')} required />
        </div>
      </div>
      <div class="field">
        <label for={`${prefix}-security`}>{t('accounts.security')}</label>
        <select
          id={`${prefix}-security`}
          value={value.security}
          onChange={(e) => {
            const security = e.currentTarget.value as Security;
            const kind = prefix === 'smtp' ? 'smtp' : 'imap';
            // Follow the usual port for the choice while the user has not typed another one.
            const port = Object.values(DEFAULT_PORTS[kind]).includes(value.port) ? DEFAULT_PORTS[kind][security] : value.port;
            onChange({ ...value, security, port });
          }}
        >
          <option value="tls">{t('accounts.securityTls')}</option>
          <option value="starttls">{t('accounts.securityStarttls')}</option>
          <option value="none">{t('accounts.securityNone')}</option>
        </select>
      </div>
      {credentials && (
        <div class="form-row">
          <div class="field field-grow">
            <label for={`${prefix}-username`}>{t('accounts.username')}</label>
            <input id={`${prefix}-username`} type="text" autoCapitalize="none" spellcheck={false} autoComplete="off" value={value.username} onInput={set('username')} required />
          </div>
          <div class="field field-grow">
            <label for={`${prefix}-password`}>{t('accounts.password')}</label>
            <input id={`${prefix}-password`} type="password" autoComplete="new-password" value={value.password} onInput={set('password')} required />
          </div>
        </div>
      )}
    </fieldset>
  );
}

const toServer = (s: Server, creds?: Server) => ({
  host: s.host.trim(),
  port: Number.parseInt(s.port, 10),
  secure: s.security === 'tls',
  allowInsecure: s.security === 'none',
  username: (creds ?? s).username.trim(),
  password: (creds ?? s).password,
});

type ProviderItem = { id: 'microsoft' | 'google'; name: string; configured: boolean };

/** "Connect Microsoft 365" / "Connect Google": the provider's sign-in instead of a password (shown when set up). */
function OAuthConnect({ visibility }: { visibility: 'private' | 'public' }) {
  const { t } = useI18n();
  const providers = useLoad((signal) => getJson<{ items: ProviderItem[] }>('/oauth/providers', undefined, signal), []);
  const [mailbox, setMailbox] = useState('');
  const action = useAction();
  const configured = (providers.data?.items ?? []).filter((p) => p.configured);
  if (!configured.length) return null;
  const go = (provider: ProviderItem['id']) => action.run(async () => {
    const { authorizeUrl } = await postJson<{ authorizeUrl: string }>('/mail-accounts/oauth', {
      provider, visibility, ...(provider === 'microsoft' && mailbox.trim() ? { mailbox: mailbox.trim() } : {}),
    });
    window.location.assign(authorizeUrl);
  });
  return (
    <fieldset class="oauth-connect">
      <legend>{t('accounts.oauth.legend')}</legend>
      <p class="muted">{t('accounts.oauth.intro')}</p>
      <div class="toolbar">
        {configured.map((p) => (
          <button key={p.id} type="button" class="btn btn-primary" disabled={action.busy} onClick={() => go(p.id)}>
            {p.id === 'microsoft' ? t('accounts.oauth.microsoft') : t('accounts.oauth.google')}
          </button>
        ))}
      </div>
      {configured.some((p) => p.id === 'microsoft') && (
        <div class="field">
          <label for="oauth-mailbox">{t('accounts.oauth.sharedMailbox')}</label>
          <input id="oauth-mailbox" type="email" autoCapitalize="none" spellcheck={false} value={mailbox} onInput={(e) => setMailbox(e.currentTarget.value)} />
          <p class="muted small">{t('accounts.oauth.sharedMailboxHint')}</p>
        </div>
      )}
      <ErrorAlert error={action.error} />
      <p class="muted">{t('accounts.oauth.orPassword')}</p>
    </fieldset>
  );
}

export function AccountAddDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const { t } = useI18n();
  const user = useUser();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [visibility, setVisibility] = useState<'private' | 'public'>('private');
  const [imap, setImap] = useState<Server>({ host: '', port: '993', security: 'tls', username: '', password: '' });
  const [smtp, setSmtp] = useState<Server>({ host: '', port: '465', security: 'tls', username: '', password: '' });
  const [sameLogin, setSameLogin] = useState(true);
  const [sending, setSending] = useState(true);
  const [invalid, setInvalid] = useState(false);
  const [created, setCreated] = useState<MailAccountView | null>(null);
  const action = useAction();

  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const ports = [imap.port, smtp.port].every((p) => /^\d{1,5}$/.test(p.trim()));
    const filled = name.trim() && /^[^\s@]+@[^\s@]+$/.test(email.trim()) && imap.host.trim() && imap.username.trim() && imap.password && (!sending || sameLogin || (smtp.username.trim() && smtp.password));
    if (!filled || !ports) return setInvalid(true);
    setInvalid(false);
    await action.run(async () => {
      const smtpHost = smtp.host.trim() ? smtp : { ...smtp, host: imap.host };
      const account = await postJson<MailAccountView>('/mail-accounts', {
        name: name.trim(),
        email: email.trim(),
        visibility,
        imap: toServer(imap),
        smtp: sending ? toServer(smtpHost, sameLogin ? imap : undefined) : null,
      });
      setCreated(account);
      onCreated();
    });
  };

  if (created) return <AccountFoldersDialog account={created} intro={t('accounts.added')} onClose={onClose} onSaved={onClose} />;
  return (
    <Dialog title={t('accounts.add')} onClose={onClose} wide>
      <form class="form" noValidate onSubmit={onSubmit}>
        <p class="muted">{t('accounts.addIntro')}</p>
        <div class="form-row">
          <div class="field field-grow">
            <label for="account-name">{t('accounts.name')}</label>
            <input id="account-name" type="text" value={name} autoFocus onInput={(e) => setName(e.currentTarget.value)} required />
          </div>
          <div class="field field-grow">
            <label for="account-email">{t('accounts.email')}</label>
            <input
              id="account-email"
              type="email"
              value={email}
              onInput={(e) => {
                const value = e.currentTarget.value;
                // The address is the usual login name: fill it in while the user has not typed one.
                if (!imap.username || imap.username === email) setImap({ ...imap, username: value });
                setEmail(value);
              }}
              required
            />
          </div>
        </div>
        {user.role === 'admin' && (
          <fieldset>
            <legend>{t('accounts.visibility')}</legend>
            <label class="check">
              <input type="radio" name="visibility" checked={visibility === 'private'} onChange={() => setVisibility('private')} />
              {t('accounts.visibilityPrivate')}
            </label>
            <label class="check">
              <input type="radio" name="visibility" checked={visibility === 'public'} onChange={() => setVisibility('public')} />
              {t('accounts.visibilityPublic')}
            </label>
          </fieldset>
        )}
        <OAuthConnect visibility={visibility} />
        <ServerFields prefix="imap" legend={t('accounts.incoming')} value={imap} onChange={setImap} />
        <Switch label={t('accounts.sending')} checked={sending} onChange={setSending} />
        {sending ? (
          <>
            <ServerFields prefix="smtp" legend={t('accounts.outgoing')} value={smtp} onChange={setSmtp} credentials={!sameLogin} />
            <Switch label={t('accounts.sameLogin')} checked={sameLogin} onChange={setSameLogin} />
          </>
        ) : (
          <p class="muted">{t('accounts.receiveOnlyIntro')}</p>
        )}
        {invalid && (
          <p class="field-error" role="alert">
            {t('accounts.fillAll')}
          </p>
        )}
        <CheckError error={action.error} />
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            {t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {action.busy ? t('accounts.checking') : t('accounts.connect')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function AccountFoldersDialog({ account, intro, onClose, onSaved }: { account: MailAccountView; intro?: string; onClose: () => void; onSaved: () => void }) {
  const { t } = useI18n();
  const folders = useLoad((signal) => getJson<{ items: ServerFolderView[] }>(`/mail-accounts/${account.id}/server-folders`, undefined, signal), [account.id]);
  const [picked, setPicked] = useState<Set<string> | null>(null);
  const action = useAction();
  const items = folders.data?.items ?? [];
  const chosen = picked ?? new Set(items.filter((f) => f.selected && !f.isDefault).map((f) => f.path));
  const toggle = (path: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(path);
    else next.delete(path);
    setPicked(next);
  };
  const onSave = () => action.run(async () => {
    await patchJson(`/mail-accounts/${account.id}`, { folders: [...chosen] });
    onSaved();
  });
  return (
    <Dialog title={t('accounts.foldersTitle', { email: account.email })} onClose={onClose}>
      {intro && (
        <p class="alert alert-info" role="status">
          {intro}
        </p>
      )}
      <p class="muted">{t('accounts.foldersIntro')}</p>
      <ErrorAlert error={folders.error} />
      {folders.loading && !folders.data && <p class="muted">{t('accounts.loadingFolders')}</p>}
      {items.length > 0 && (
        <fieldset class="folder-picker">
          <legend>{t('accounts.folders')}</legend>
          {items.map((f) => (
            <label key={f.path} class="check">
              <input type="checkbox" checked={f.isDefault || chosen.has(f.path)} disabled={f.isDefault} onChange={(e) => toggle(f.path, e.currentTarget.checked)} />
              {f.path}
              {f.isDefault && <span class="muted small"> {t('accounts.always')}</span>}
            </label>
          ))}
        </fieldset>
      )}
      <ErrorAlert error={action.error} />
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={onClose}>
          {intro ? t('accounts.later') : t('client.cancel')}
        </button>
        <button type="button" class="btn btn-primary" disabled={action.busy || !folders.data} onClick={onSave}>
          {t('accounts.saveFolders')}
        </button>
      </div>
    </Dialog>
  );
}

export function AccountPasswordDialog({ account, onClose, onSaved }: { account: MailAccountView; onClose: () => void; onSaved: () => void }) {
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const [smtpToo, setSmtpToo] = useState(account.smtp !== null && account.smtp.username === account.imap.username);
  const action = useAction();
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!password) return;
    await action.run(async () => {
      await patchJson(`/mail-accounts/${account.id}`, { imap: { password }, ...(smtpToo ? { smtp: { password } } : {}) });
      onSaved();
    });
  };
  return (
    <Dialog title={t('accounts.passwordTitle', { email: account.email })} onClose={onClose}>
      <form class="form" noValidate onSubmit={onSubmit}>
        <p class="muted">{t('accounts.passwordIntro', { username: account.imap.username, host: account.imap.host })}</p>
        <div class="field">
          <label for="reauth-password">{t('accounts.password')}</label>
          <input id="reauth-password" type="password" autoComplete="new-password" value={password} autoFocus onInput={(e) => setPassword(e.currentTarget.value)} />
        </div>
        {account.smtp && <Switch label={t('accounts.smtpToo')} checked={smtpToo} onChange={setSmtpToo} />}
        <CheckError error={action.error} />
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            {t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={action.busy || !password}>
            {action.busy ? t('accounts.checking') : t('client.save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
