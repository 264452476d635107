// Gives components the current language and its t(); re-renders the tree when the language changes.
// Changing the language is the session's job (it must be saved on the user); this only listens.
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useMemo, useState } from 'preact/hooks';
import type { TFunction } from 'i18next';
import { formatDate, formatNumber, i18n, isLanguage, type Language } from './i18n.ts';

export type I18nValue = {
  language: Language;
  t: TFunction;
  formatDate: (value: Date | string, options?: Intl.DateTimeFormatOptions) => string;
  formatNumber: (value: number, options?: Intl.NumberFormatOptions) => string;
};

const I18nContext = createContext<I18nValue | null>(null);

function currentLanguage(): Language {
  return isLanguage(i18n.language) ? i18n.language : 'en';
}

export function I18nProvider({ children }: { children: ComponentChildren }) {
  const [language, setLanguage] = useState<Language>(currentLanguage);
  useEffect(() => {
    const onChange = () => setLanguage(currentLanguage());
    i18n.on('languageChanged', onChange);
    return () => i18n.off('languageChanged', onChange);
  }, []);
  const value = useMemo<I18nValue>(
    () => ({
      language,
      t: i18n.getFixedT(language),
      formatDate: (d, options) => formatDate(d, language, options),
      formatNumber: (n, options) => formatNumber(n, language, options),
    }),
    [language],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside <I18nProvider>');
  return value;
}
