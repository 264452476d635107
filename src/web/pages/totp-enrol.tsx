// Shown instead of the app when the firm requires two-step sign-in and the signed-in user has not set it
// up yet: the server gives such a session nothing else, so this page is all there is until it is done.
import { useEffect } from 'preact/hooks';
import { useI18n } from '../i18n/context.tsx';
import { useSession } from '../session.tsx';
import { TotpSetup } from '../components/totp-setup.tsx';

export function TotpEnrolPage() {
  const { t } = useI18n();
  const { replaceUser, signOut } = useSession();
  useEffect(() => {
    document.title = `${t('settings.security.enrolTitle')} · ${t('app.name')}`;
  }, [t]);
  return (
    <div class="login-page">
      <main id="main" class="login-card">
        <h1>{t('settings.security.enrolTitle')}</h1>
        <p>{t('settings.security.enrolIntro')}</p>
        <TotpSetup onDone={replaceUser} />
        <button type="button" class="btn" onClick={() => void signOut()}>
          {t('userMenu.signOut')}
        </button>
      </main>
    </div>
  );
}
