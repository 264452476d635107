// Settings → your profile: who you are, the language Dossier speaks to you (saved on your user), and
// the signature added to the mail you write.
import { useState } from 'preact/hooks';
import type { Session } from '../api.ts';
import { getJson, updateMe } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { isLanguage, languages } from '../i18n/i18n.ts';
import { useSession, useUser } from '../session.tsx';
import { ErrorAlert, useAction, useLoad } from './client-ui.tsx';

export function SettingsProfile() {
  const { t, language } = useI18n();
  const user = useUser();
  const { changeLanguage, replaceUser } = useSession();
  const [name, setName] = useState<string | null>(null);
  const [nameSaved, setNameSaved] = useState(false);
  const rename = useAction();
  const me = useLoad((signal) => getJson<Session>('/me', undefined, signal), []);
  const [signature, setSignature] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const lang = useAction();
  const notice = useAction();
  const [noticeSaved, setNoticeSaved] = useState(false);
  const current = signature ?? me.data?.user.signature ?? user.signature;

  const onSave = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    if (await save.run(() => updateMe({ signature: current }))) setSaved(true);
  };
  const onRename = async (event: Event) => {
    event.preventDefault();
    setNameSaved(false);
    const next = (name ?? user.name).trim();
    if (!next) return;
    if (await rename.run(async () => replaceUser(await updateMe({ name: next })))) {
      setName(null);
      setNameSaved(true);
    }
  };
  return (
    <section id="settings-profile" class="card" aria-labelledby="settings-profile-heading">
      <h2 id="settings-profile-heading">{t('settings.profile')}</h2>
      {/* Clients see this name on the mail and shares the user sends. */}
      <form class="form field-inline settings-name" onSubmit={onRename}>
        <label for="settings-name">{t('settings.name')}</label>
        <input id="settings-name" type="text" maxLength={200} required value={name ?? user.name} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit" class="btn" disabled={rename.busy || (name ?? user.name).trim() === user.name}>
          {t('settings.saveName')}
        </button>
        {nameSaved && (
          <span role="status" class="muted">
            {t('client.saved')}
          </span>
        )}
      </form>
      <ErrorAlert error={rename.error} />
      <dl class="details">
        <dt>{t('settings.email')}</dt>
        <dd>{user.email}</dd>
        <dt>{t('settings.role')}</dt>
        <dd>{t(`userMenu.role.${user.role}`)}</dd>
      </dl>
      {/* Not labelled "Language": the top bar's switch already is, and one name should find one control. */}
      <div class="field field-inline settings-display">
        <label for="settings-display-language">{t('settings.showIn')}</label>
        <select
          id="settings-display-language"
          value={language}
          disabled={lang.busy}
          onChange={(e) => {
            const value = e.currentTarget.value;
            if (isLanguage(value)) void lang.run(() => changeLanguage(value));
          }}
        >
          {languages.map((code) => (
            <option key={code} value={code} lang={code}>
              {t(`language.${code}`)}
            </option>
          ))}
        </select>
      </div>
      <ErrorAlert error={lang.error} />
      {/* New mail filed to a client you own: nothing, the bell, or the bell and an email digest (at most every 15 minutes). */}
      <div class="field settings-display">
        <label for="settings-client-mail">{t('settings.clientMailNotice')}</label>
        <select
          id="settings-client-mail"
          aria-describedby="settings-client-mail-help"
          value={user.clientMailNotice}
          disabled={notice.busy}
          onChange={(e) => {
            const value = e.currentTarget.value;
            if (value !== 'off' && value !== 'bell' && value !== 'email') return;
            setNoticeSaved(false);
            void notice.run(async () => {
              replaceUser(await updateMe({ clientMailNotice: value }));
              setNoticeSaved(true);
            });
          }}
        >
          {(['off', 'bell', 'email'] as const).map((v) => (
            <option key={v} value={v}>
              {t(`settings.clientMail.${v}`)}
            </option>
          ))}
        </select>
        <p id="settings-client-mail-help" class="muted small">
          {t('settings.clientMailHelp')}
        </p>
        {noticeSaved && (
          <span role="status" class="muted">
            {t('client.saved')}
          </span>
        )}
      </div>
      <ErrorAlert error={notice.error} />
      <form class="form" onSubmit={onSave}>
        <div class="field">
          <label for="settings-signature">{t('settings.signature')}</label>
          <textarea id="settings-signature" rows={5} value={current} onInput={(e) => setSignature(e.currentTarget.value)} aria-describedby="settings-signature-help" />
          <p id="settings-signature-help" class="muted small">
            {t('settings.signatureHelp')}
          </p>
        </div>
        <ErrorAlert error={save.error} />
        <div class="toolbar">
          <button type="submit" class="btn btn-primary" disabled={save.busy}>
            {t('settings.saveSignature')}
          </button>
          {saved && (
            <span role="status" class="muted">
              {t('client.saved')}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
