// The one i18next instance of the web app: which languages exist, loading their JSON on demand,
// the language chosen before login (localStorage), and Intl formatting. No preact here, no fetch.
import { createInstance } from 'i18next';
import type en from './en.json';

export const languages = ['en', 'es', 'nl'] as const;
export type Language = (typeof languages)[number];
export type Messages = typeof en;

// Key typing: t('nav.inbox') is checked against en.json at compile time (es and nl are checked
// against en by test/web/i18n.test.ts).
declare module 'i18next' {
  interface CustomTypeOptions {
    resources: { translation: Messages };
  }
}

const storageKey = 'dossier.language';

// One chunk per language: the first load carries only the language in use.
const loaders = import.meta.glob<Messages>('./*.json', { import: 'default' });

export const i18n = createInstance();

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

/** Before login: what this browser chose last time, else the first of the browser's languages we have. */
export function pickInitialLanguage(): Language {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(storageKey);
  } catch {
    // Storage can be disabled (privacy modes); the browser's languages still give a good guess.
  }
  if (isLanguage(stored)) return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

/** Remembers the language for the login page of this browser (the signed-in choice lives on the user). */
export function rememberLanguage(language: Language): void {
  try {
    localStorage.setItem(storageKey, language);
  } catch {
    // Not fatal: the next visit falls back to the browser's languages.
  }
}

async function loadMessages(language: Language): Promise<void> {
  if (i18n.hasResourceBundle(language, 'translation')) return;
  const load = loaders[`./${language}.json`];
  if (!load) throw new Error(`no messages for language ${language}`);
  i18n.addResourceBundle(language, 'translation', await load());
}

export async function startI18n(language: Language): Promise<void> {
  await i18n.init({
    lng: language,
    supportedLngs: [...languages],
    // Every locale has every key (enforced by a test), so a fallback would only hide mistakes.
    fallbackLng: false,
    resources: {},
    partialBundledLanguages: true,
    // Preact escapes text it renders; escaping here too would show &amp; to users.
    interpolation: { escapeValue: false },
  });
  await applyLanguage(language);
}

/** Loads the language's messages if needed, then switches every translated string and <html lang>. */
export async function applyLanguage(language: Language): Promise<void> {
  await loadMessages(language);
  await i18n.changeLanguage(language);
  document.documentElement.lang = language;
}

export function formatDate(value: Date | string, language: Language, options: Intl.DateTimeFormatOptions = { dateStyle: 'medium' }): string {
  return new Intl.DateTimeFormat(language, options).format(typeof value === 'string' ? new Date(value) : value);
}

export function formatNumber(value: number, language: Language, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(language, options).format(value);
}
