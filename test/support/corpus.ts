// The shared mail corpora (../shared/corpus beside the repo), listed so tests read them in place; nothing here
// copies corpus files into the repo.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export type CorpusKind = 'real' | 'hostile';

/** The shared corpus directory beside the repo (`../shared/corpus/<kind>`, as laid out for developers and CI). */
export function corpusDir(kind: CorpusKind): string {
  const dir = path.resolve(import.meta.dirname, '../../../shared/corpus', kind);
  if (!existsSync(dir)) throw new Error(`corpus not found at ${dir}: tests expect ../shared beside the repository`);
  return dir;
}

const notMail = /^(readme|license|copying)|\.(md|js|json|txt\.license)$|^\./i;

/** Every message file of a corpus (recursively; docs and scripts left out), absolute paths in a stable order. */
export async function listCorpus(kind: CorpusKind): Promise<string[]> {
  const root = corpusDir(kind);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !notMail.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}
