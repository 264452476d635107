// Settings → sign-in security: change your password (the current one is asked again, and your other
// sessions are signed out by the server), two-step sign-in on or off, and for administrators the firm's
// switch that requires it of everyone.
import { useState } from 'preact/hooks';
import { deleteJson, getJson, patchJson, updateMe } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { useSession, useUser } from '../session.tsx';
import { ErrorAlert, Switch, useAction, useLoad } from './client-ui.tsx';
import { TotpSetup } from './totp-setup.tsx';

export function SettingsSecurity() {
  const { t } = useI18n();
  const user = useUser();
  return (
    <section id="settings-security" class="card" aria-labelledby="settings-security-heading">
      <h2 id="settings-security-heading">{t('settings.security.title')}</h2>
      <ChangePassword />
      <TwoStep />
      {user.role === 'admin' && <RequireTwoStep />}
    </section>
  );
}

function TwoStep() {
  const { t } = useI18n();
  const user = useUser();
  const { replaceUser } = useSession();
  const status = useLoad((signal) => getJson<{ enabled: boolean; recoveryCodesLeft: number }>('/me/totp', undefined, signal), [user.totpEnabled]);
  const [password, setPassword] = useState('');
  const off = useAction();
  const onTurnOff = async (event: Event) => {
    event.preventDefault();
    if (await off.run(async () => {
      await deleteJson('/me/totp', { currentPassword: password });
      replaceUser({ ...user, totpEnabled: false });
    })) setPassword('');
  };
  return (
    <div class="settings-two-step" aria-labelledby="settings-two-step-heading" role="group">
      <h3 id="settings-two-step-heading">{t('settings.security.totpTitle')}</h3>
      {!user.totpEnabled && <TotpSetup onDone={replaceUser} />}
      {user.totpEnabled && (
        <form class="form" onSubmit={onTurnOff}>
          <p>
            {t('settings.security.totpIsOn')} {status.data && t('settings.security.recoveryLeft', { count: status.data.recoveryCodesLeft })}
          </p>
          <div class="field">
            <label for="totp-off-password">{t('settings.security.currentPassword')}</label>
            <input id="totp-off-password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          </div>
          <ErrorAlert error={off.error} />
          <button type="submit" class="btn" disabled={off.busy}>
            {t('settings.security.totpTurnOff')}
          </button>
        </form>
      )}
    </div>
  );
}

function RequireTwoStep() {
  const { t } = useI18n();
  const settings = useLoad((signal) => getJson<{ requireTotp: boolean }>('/settings', undefined, signal), []);
  const action = useAction();
  if (!settings.data) return <ErrorAlert error={settings.error} />;
  return (
    <div class="settings-require-two-step">
      <Switch
        label={t('settings.security.requireTotp')}
        checked={settings.data.requireTotp}
        disabled={action.busy}
        onChange={(on) => void action.run(async () => settings.setData(await patchJson<{ requireTotp: boolean }>('/settings', { requireTotp: on })))}
      />
      <p class="muted small">{t('settings.security.requireTotpHelp')}</p>
      <ErrorAlert error={action.error} />
    </div>
  );
}

function ChangePassword() {
  const { t } = useI18n();
  const { replaceUser } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    if (await action.run(async () => replaceUser(await updateMe({ password: next, currentPassword: current })))) {
      setCurrent('');
      setNext('');
      setSaved(true);
    }
  };
  return (
    <form class="form" onSubmit={onSubmit} aria-labelledby="settings-password-heading">
      <h3 id="settings-password-heading">{t('settings.security.changePassword')}</h3>
      <div class="field">
        <label for="settings-current-password">{t('settings.security.currentPassword')}</label>
        <input id="settings-current-password" type="password" autoComplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="settings-new-password">{t('settings.security.newPassword')}</label>
        <input id="settings-new-password" type="password" autoComplete="new-password" required minLength={12} value={next} onInput={(e) => setNext(e.currentTarget.value)} aria-describedby="settings-new-password-help" />
        <p id="settings-new-password-help" class="muted small">
          {t('settings.security.passwordHelp')}
        </p>
      </div>
      <ErrorAlert error={action.error} />
      <div class="toolbar">
        <button type="submit" class="btn btn-primary" disabled={action.busy}>
          {t('settings.security.changePassword')}
        </button>
        {saved && (
          <span role="status" class="muted">
            {t('settings.security.passwordChanged')}
          </span>
        )}
      </div>
    </form>
  );
}
