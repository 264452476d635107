// Builds the web app (src/web) into dist/web, which the server serves with an SPA fallback.
// Also prints the first-load JS size (gzipped) and fails the build when it exceeds the budget.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('./src/web', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/web', import.meta.url));

// Issue 5: "JS ≤ 150 KB gzipped for the first load". Staff open the app all day on office networks;
// the budget keeps the shell quick and stops a heavy dependency from sneaking in unnoticed.
const firstLoadBudgetKb = 150;

type OutChunk = { type: 'chunk'; fileName: string; code: string; isEntry: boolean; imports: string[]; dynamicImports: string[]; moduleIds: string[] };
type OutAsset = { type: 'asset'; fileName: string };

/** Prints, for the entry and for each lazily loaded page, the gzipped JS a browser needs on first load. */
function reportFirstLoad(): Plugin {
  return {
    name: 'dossier-first-load-size',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = new Map<string, OutChunk>();
      for (const item of Object.values(bundle) as (OutChunk | OutAsset)[]) if (item.type === 'chunk') chunks.set(item.fileName, item);
      const gzipKb = (file: string) => gzipSync(chunks.get(file)?.code ?? '').length / 1024;
      // Static imports load together with the chunk that names them; dynamic ones only when asked for.
      const closure = (file: string, seen = new Set<string>()) => {
        if (seen.has(file)) return seen;
        seen.add(file);
        for (const dep of chunks.get(file)?.imports ?? []) closure(dep, seen);
        return seen;
      };
      const sum = (files: Set<string>) => [...files].reduce((kb, f) => kb + gzipKb(f), 0);
      const entries = [...chunks.values()].filter((c) => c.isEntry);
      let worst = 0;
      for (const entry of entries) {
        const shell = closure(entry.fileName);
        // The shell also loads one language's messages (a JSON-only chunk) before it renders: count the largest.
        const lazy = [...shell].flatMap((f) => chunks.get(f)?.dynamicImports ?? []);
        const isMessages = (f: string) => (chunks.get(f)?.moduleIds ?? []).every((id) => id.endsWith('.json'));
        const messagesKb = Math.max(0, ...lazy.filter(isMessages).map(gzipKb));
        const shellKb = sum(shell) + messagesKb;
        worst = Math.max(worst, shellKb);
        this.info(`first-load JS (shell ${entry.fileName} + messages): ${shellKb.toFixed(1)} KB gzipped`);
        // Opening a deep link loads the shell plus that page's chunk: report each page.
        for (const page of lazy.filter((f) => !isMessages(f))) {
          const kb = sum(closure(page, new Set(shell))) + messagesKb;
          worst = Math.max(worst, kb);
          this.info(`first-load JS (shell + messages + ${page}): ${kb.toFixed(1)} KB gzipped`);
        }
      }
      const line = `first-load JS, worst case: ${worst.toFixed(1)} KB gzipped (budget ${firstLoadBudgetKb} KB)`;
      if (worst > firstLoadBudgetKb) this.error(line);
      this.info(line);
    },
  };
}

export default defineConfig({
  root,
  publicDir: false,
  plugins: [preact(), reportFirstLoad()],
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    // `npx vite` for UI work: the API runs separately (npm run server) and is reached through this proxy.
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
