// Setting up two-step sign-in: a new secret as a QR code (drawn here from the otpauth URL, so the secret
// never leaves this page for an image service) and as text, the first code to confirm it, then the
// recovery codes, shown once.
import { useMemo, useState } from 'preact/hooks';
import { encode } from 'uqr';
import { getJson, postJson, type User } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, useAction } from './client-ui.tsx';

type Started = { secret: string; otpauthUrl: string };

/** onDone gets the user as the server now has them (two-step on), after the recovery codes were seen. */
export function TotpSetup({ onDone }: { onDone: (user: User) => void }) {
  const { t } = useI18n();
  const [started, setStarted] = useState<Started | null>(null);
  const [code, setCode] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const start = useAction();
  const confirm = useAction();
  const finish = useAction();

  if (recoveryCodes) {
    return (
      <div class="totp-setup">
        <p role="status">{t('settings.security.totpOn')}</p>
        <h4 id="totp-recovery-heading">{t('settings.security.recoveryTitle')}</h4>
        <p class="muted">{t('settings.security.recoveryHelp')}</p>
        <ul class="recovery-codes" aria-labelledby="totp-recovery-heading">
          {recoveryCodes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <ErrorAlert error={finish.error} />
        <button type="button" class="btn btn-primary" disabled={finish.busy} onClick={() => void finish.run(async () => onDone((await getJson<{ user: User }>('/me')).user))}>
          {t('settings.security.recoverySaved')}
        </button>
      </div>
    );
  }
  if (!started) {
    return (
      <div class="totp-setup">
        <p class="muted">{t('settings.security.totpIntro')}</p>
        <ErrorAlert error={start.error} />
        <button type="button" class="btn btn-primary" disabled={start.busy} onClick={() => void start.run(async () => setStarted(await postJson<Started>('/me/totp', {})))}>
          {t('settings.security.totpStart')}
        </button>
      </div>
    );
  }
  const onConfirm = async (event: Event) => {
    event.preventDefault();
    await confirm.run(async () => setRecoveryCodes((await postJson<{ recoveryCodes: string[] }>('/me/totp/confirm', { code: code.trim() })).recoveryCodes));
  };
  return (
    <form class="form totp-setup" onSubmit={onConfirm}>
      <p>{t('settings.security.totpScan')}</p>
      <QrCode text={started.otpauthUrl} label={t('settings.security.qrLabel')} />
      <p class="muted small">
        {t('settings.security.totpKey')} <code class="totp-secret">{started.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
      </p>
      <div class="field">
        <label for="totp-code">{t('settings.security.totpCode')}</label>
        <input id="totp-code" type="text" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]*" maxLength={7} required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
      </div>
      <ErrorAlert error={confirm.error} />
      <button type="submit" class="btn btn-primary" disabled={confirm.busy}>
        {t('settings.security.totpConfirm')}
      </button>
    </form>
  );
}

/** The QR code as SVG squares: no image request, and nothing but our own markup in the page. */
function QrCode({ text, label }: { text: string; label: string }) {
  const { size, path } = useMemo(() => {
    const qr = encode(text, { ecc: 'M', border: 2 });
    let d = '';
    qr.data.forEach((row, y) => row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    }));
    return { size: qr.size, path: d };
  }, [text]);
  return (
    <svg class="qr-code" role="img" aria-label={label} viewBox={`0 0 ${size} ${size}`} width={size * 5} height={size * 5} shape-rendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
