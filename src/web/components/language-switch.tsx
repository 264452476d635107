// The language picker, on the login page and in the layout. Signed in, the choice is saved on the user;
// before login, in this browser. Option names are each language's own name, as users look for theirs.
import { useState } from 'preact/hooks';
import { useI18n } from '../i18n/context.tsx';
import { isLanguage, languages } from '../i18n/i18n.ts';
import { useSession } from '../session.tsx';
import { Icon } from './icon.tsx';

export function LanguageSwitch({ id, compact = false }: { id: string; compact?: boolean }) {
  const { t, language } = useI18n();
  const { changeLanguage } = useSession();
  const [failed, setFailed] = useState(false);
  const [busy, setBusy] = useState(false);

  const onChange = async (event: Event) => {
    const value = (event.currentTarget as HTMLSelectElement).value;
    if (!isLanguage(value) || busy) return;
    setBusy(true);
    setFailed(false);
    try {
      await changeLanguage(value);
    } catch {
      // The re-render puts the select back on the language really in force (preact syncs `value`).
      setFailed(true);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class={`language-switch${compact ? ' language-switch-compact' : ''}`}>
      <label for={id} class={compact ? 'visually-hidden' : undefined}>
        {t('language.label')}
      </label>
      {compact && <Icon name="globe" />}
      <select id={id} value={language} onChange={onChange} aria-busy={busy}>
        {languages.map((code) => (
          <option key={code} value={code} lang={code}>
            {t(`language.${code}`)}
          </option>
        ))}
      </select>
      {failed && (
        <span class="field-error" role="alert">
          {t('language.saveFailed')}
        </span>
      )}
    </div>
  );
}
