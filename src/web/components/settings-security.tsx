// Settings → sign-in security: change your password (the current one is asked again, and your other
// sessions are signed out by the server).
import { useState } from 'preact/hooks';
import { updateMe } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { useSession } from '../session.tsx';
import { ErrorAlert, useAction } from './client-ui.tsx';

export function SettingsSecurity() {
  const { t } = useI18n();
  return (
    <section id="settings-security" class="card" aria-labelledby="settings-security-heading">
      <h2 id="settings-security-heading">{t('settings.security.title')}</h2>
      <ChangePassword />
    </section>
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
