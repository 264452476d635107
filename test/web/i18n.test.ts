// The translations are complete and consistent: every language has every key, the same {{variables}},
// every plural form its grammar needs, and every key the code asks for exists.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = fileURLToPath(new URL('../../src/web', import.meta.url));
const i18nDir = path.join(webDir, 'i18n');
const languages = ['en', 'es', 'nl'] as const;
const pluralSuffix = /_(zero|one|two|few|many|other)$/;

type Tree = { [key: string]: string | Tree };
const load = (lang: string) => JSON.parse(readFileSync(path.join(i18nDir, `${lang}.json`), 'utf8')) as Tree;

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const full = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(full, value);
    else for (const [k, v] of flatten(value, full)) out.set(k, v);
  }
  return out;
}

const variables = (text: string) => [...text.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]).sort();
const messages = Object.fromEntries(languages.map((lang) => [lang, flatten(load(lang))])) as Record<(typeof languages)[number], Map<string, string>>;

t.same(readdirSync(i18nDir).filter((f) => f.endsWith('.json') && f !== 'glossary.json').sort(), languages.map((l) => `${l}.json`).sort(), 'one JSON file per supported language');

for (const lang of languages) {
  t.test(`${lang} against en`, async (t) => {
    const own = messages[lang];
    // Plural keys differ per grammar (es has _many), so compare the base keys.
    const base = (keys: Iterable<string>) => [...new Set([...keys].map((k) => k.replace(pluralSuffix, '')))].sort();
    t.same(base(own.keys()), base(messages.en.keys()), 'same keys as en');
    for (const [key, text] of own) {
      t.ok(text.trim().length > 0, `${key} is not empty`);
      const enText = messages.en.get(key) ?? messages.en.get(key.replace(pluralSuffix, '_other'));
      if (enText !== undefined) t.same(variables(text), variables(enText), `${key} uses the same {{variables}} as en`);
    }
    // i18next picks the form with Intl.PluralRules: a missing form shows the raw key to the user.
    const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
    const pluralBases = new Set([...own.keys()].filter((k) => pluralSuffix.test(k)).map((k) => k.replace(pluralSuffix, '')));
    for (const key of pluralBases) {
      for (const category of categories) t.ok(own.has(`${key}_${category}`), `${key} has the "${category}" form ${lang} needs`);
    }
  });
}

// One word for one thing in each language (nl once said "Cliënten" in the navigation and "Klanten" on
// the page): src/web/i18n/glossary.json names each language's chosen term and the words it replaces.
t.test('each language keeps to its glossary', async (t) => {
  const glossary = JSON.parse(readFileSync(path.join(i18nDir, 'glossary.json'), 'utf8')) as Record<string, Record<string, string[]>>;
  t.same(Object.keys(glossary).sort(), [...languages].sort(), 'a glossary for every language');
  for (const lang of languages) {
    const texts = [...messages[lang]].map(([key, text]) => [key, text.replace(/\{\{[^}]*\}\}/g, ' ')] as const);
    const word = (w: string) => new RegExp(`(?<![\\p{L}-])${w}(?![\\p{L}])`, 'iu');
    for (const [term, avoided] of Object.entries(glossary[lang]!)) {
      t.ok(texts.some(([, text]) => word(term).test(text)), `${lang}: "${term}" is used`);
      for (const other of avoided) {
        const found = texts.filter(([, text]) => word(other).test(text)).map(([key]) => key);
        t.same(found, [], `${lang}: "${term}", never "${other}"`);
      }
    }
  }
});

t.test('every literal key the web app asks for exists', async (t) => {
  const sources = readdirSync(webDir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
  const used = new Set<string>();
  for (const file of sources) {
    const code = readFileSync(path.join(webDir, file), 'utf8');
    // t('a.b'), t("a.b") and route labels like label: 'nav.inbox'.
    for (const m of code.matchAll(/\bt\(\s*['"]([\w.]+)['"]|label:\s*['"]([\w.]+)['"]/g)) used.add((m[1] ?? m[2])!);
  }
  t.ok(used.size > 20, 'found the keys in use');
  const known = new Set([...messages.en.keys()].map((k) => k.replace(pluralSuffix, '')));
  for (const key of used) t.ok(known.has(key), `${key} exists in en.json`);
});
