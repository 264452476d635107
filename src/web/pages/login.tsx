// The sign-in page: email + password (then the authenticator code when two-step sign-in is on), errors in words (wrong password, rate limit, no connection),
// and the language switch for people who have not signed in yet. Validation is ours, not the browser's,
// so its messages follow the chosen language.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { describeError } from '../i18n/describe-error.ts';
import { useSession, type LoginNotice } from '../session.tsx';
import { LanguageSwitch } from '../components/language-switch.tsx';
import { Icon } from '../components/icon.tsx';

type FieldError = 'login.emailRequired' | 'login.emailInvalid' | 'login.passwordRequired';

// Deliberately loose: the server decides who exists; this only catches typos before a round trip.
const emailShape = /^[^\s@]+@[^\s@]+$/;

export function LoginPage({ notice }: { notice: LoginNotice }) {
  const { t } = useI18n();
  const { signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ email?: FieldError; password?: FieldError }>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  /** The server answered totp_required: the password was right, now the code. */
  const [needCode, setNeedCode] = useState(false);
  const [code, setCode] = useState('');
  const emailInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (needCode) codeInput.current?.focus();
  }, [needCode]);

  useEffect(() => {
    document.title = `${t('login.title')} · ${t('app.name')}`;
  }, [t]);

  // The page has one job: start typing the email address right away.
  useEffect(() => emailInput.current?.focus(), []);

  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (pending) return;
    const found: typeof errors = {};
    if (!email.trim()) found.email = 'login.emailRequired';
    else if (!emailShape.test(email.trim())) found.email = 'login.emailInvalid';
    if (!password) found.password = 'login.passwordRequired';
    setErrors(found);
    setFailure(null);
    if (found.email) return emailInput.current?.focus();
    if (found.password) return passwordInput.current?.focus();

    setPending(true);
    try {
      await signIn(email.trim(), password, needCode ? code.trim() : undefined);
      // The gate in app.tsx sees the session and leaves this page.
    } catch (error) {
      setPending(false);
      if (error instanceof ApiError && error.code === 'totp_required') {
        setNeedCode(true);
        return;
      }
      setFailure(error);
      if (error instanceof ApiError && error.code === 'invalid_credentials') {
        setPassword('');
        setNeedCode(false);
        passwordInput.current?.focus();
      }
      if (error instanceof ApiError && error.code === 'invalid_totp') {
        setCode('');
        codeInput.current?.focus();
      }
    }
  };

  const noticeText = notice === 'signed-out' ? t('login.signedOut') : notice === 'session-expired' ? t('login.sessionExpired') : null;

  return (
    <div class="login-page">
      <main id="main" class="login-card">
        <div class="brand brand-large">
          <span class="brand-mark" aria-hidden="true">
            D
          </span>
          <span class="brand-name">{t('app.name')}</span>
        </div>
        <h1>{t('login.title')}</h1>
        <p class="muted">{t('login.intro')}</p>

        {noticeText && !failure && (
          <p class="alert alert-info" role="status">
            {noticeText}
          </p>
        )}
        {failure !== null && (
          <div class="alert alert-error" role="alert">
            <Icon name="alert" />
            <p>{describeError(t, failure)}</p>
          </div>
        )}

        <form class="form" noValidate onSubmit={onSubmit}>
          <div class="field">
            <label for="login-email">{t('login.email')}</label>
            <input
              ref={emailInput}
              id="login-email"
              name="email"
              type="email"
              inputMode="email"
              autoComplete="username"
              autoCapitalize="none"
              spellcheck={false}
              required
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
              aria-invalid={errors.email ? true : undefined}
              aria-describedby={errors.email ? 'login-email-error' : undefined}
            />
            {errors.email && (
              <p id="login-email-error" class="field-error">
                {t(errors.email)}
              </p>
            )}
          </div>
          <div class="field">
            <label for="login-password">{t('login.password')}</label>
            <input
              ref={passwordInput}
              id="login-password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              aria-invalid={errors.password ? true : undefined}
              aria-describedby={errors.password ? 'login-password-error' : undefined}
            />
            {errors.password && (
              <p id="login-password-error" class="field-error">
                {t(errors.password)}
              </p>
            )}
          </div>
          {needCode && (
            <div class="field">
              <label for="login-totp">{t('login.totp')}</label>
              <input
                ref={codeInput}
                id="login-totp"
                name="totp"
                type="text"
                autoComplete="one-time-code"
                autoCapitalize="none"
                spellcheck={false}
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
                aria-describedby="login-totp-help"
              />
              <p id="login-totp-help" class="muted small">
                {t('login.totpHelp')}
              </p>
            </div>
          )}
          <button type="submit" class="btn btn-primary btn-block" aria-disabled={pending}>
            {pending ? t('login.submitting') : t('login.submit')}
          </button>
        </form>
      </main>
      <footer class="login-footer">
        <LanguageSwitch id="login-language" />
        <p class="muted">{t('app.tagline')}</p>
      </footer>
    </div>
  );
}
