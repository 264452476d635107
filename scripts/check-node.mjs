// Runs before every npm script that starts Dossier's TypeScript: on an older Node the first thing the user
// would see is an ERR_UNKNOWN_FILE_EXTENSION stack trace for src/main.ts. Plain JavaScript that any Node
// can run; the minimum comes from package.json's "engines" so there is one place to change it.
/* global process, URL -- a plain Node script, outside the TypeScript project */
import { readFileSync } from 'node:fs';

const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines || {};
const wanted = /(\d+)\.(\d+)/.exec(engines.node || '') || ['', '0', '0'];
const need = [Number(wanted[1]), Number(wanted[2])];
const have = process.versions.node.split('.').map(Number);

if (have[0] < need[0] || (have[0] === need[0] && have[1] < need[1])) {
  process.stderr.write(
    `Dossier needs Node.js ${need[0]}.${need[1]} or newer (24 LTS recommended), but this is Node ${process.versions.node}: ` +
      'install Node 24 from https://nodejs.org/ or with a version manager (nvm install 24, fnm install 24).\n',
  );
  process.exit(1);
}
