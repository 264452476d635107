// Password strength (zxcvbn-ts, the only import of it): at least 12 characters and a zxcvbn score of 3
// ("safely unguessable") against English, Spanish and Dutch dictionaries, the firm's languages.
// The word lists take about a second to load, so they load on the first check, not at start-up.
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

export const MIN_PASSWORD_LENGTH = 12;
export const MIN_PASSWORD_SCORE = 3;

let factory: Promise<ZxcvbnFactory> | null = null;
async function loadFactory(): Promise<ZxcvbnFactory> {
  const [{ ZxcvbnFactory }, common, en, es, nl] = await Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
    import('@zxcvbn-ts/language-es-es'),
    import('@zxcvbn-ts/language-nl-be'),
  ]);
  // language-nl-be (3.x) names its lists without a language suffix; suffix them so none replaces another's.
  const nlLists = Object.fromEntries(Object.entries(nl.dictionary).map(([name, words]) => [`${name}-nl-be`, words]));
  return new ZxcvbnFactory({
    translations: en.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary, ...es.dictionary, ...nlLists },
    // Levenshtein matching against these lists costs seconds per password; exact, l33t and reversed matches stay.
    useLevenshteinDistance: false,
  });
}

/** null when the password is strong enough; otherwise why not, with the library's hint (English). */
export async function weakPasswordReason(password: string, userInputs: string[] = []): Promise<string | null> {
  if (password.length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  const zxcvbn = await (factory ??= loadFactory());
  // zxcvbn's cost grows with length; a password that is long enough is judged on its first 100 characters.
  // The user's own name and address, whole, without spaces and in parts, count as words anyone could guess.
  const inputs = userInputs.flatMap((s) => [s, s.replace(/\s+/g, ''), ...s.split(/[^\p{L}\p{N}]+/u)]).filter((s) => s.length > 2);
  const result = zxcvbn.check(password.slice(0, 100), inputs);
  if (result.score >= MIN_PASSWORD_SCORE) return null;
  const hint = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(' ');
  return `This password is too easy to guess.${hint ? ` ${hint}` : ''}`;
}
