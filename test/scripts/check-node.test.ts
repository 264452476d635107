// The Node version check in front of every npm script: on an old Node it says in one line what is needed
// instead of the ERR_UNKNOWN_FILE_EXTENSION stack trace src/main.ts would give. Run with this machine's
// system Node (Debian's, older than Dossier needs) and with the Node the tests run on.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const systemNode = '/usr/bin/node';
const versionOf = (node: string) => spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
const tooOld = (v: string) => {
  const [major = 0, minor = 0] = v.split('.').map(Number);
  return major < 22 || (major === 22 && minor < 18);
};

t.test('the Node running the tests passes the check silently', async (t) => {
  const run = spawnSync(process.execPath, ['scripts/check-node.mjs'], { cwd: root, encoding: 'utf8' });
  t.equal(run.status, 0);
  t.equal(run.stdout + run.stderr, '');
});

const old = existsSync(systemNode) ? versionOf(systemNode) : '';
t.test('an older Node gets one line saying which Node is needed and how to get it', { skip: old && tooOld(old) ? false : `no Node older than 22.18 at ${systemNode}` }, async (t) => {
  const run = spawnSync(systemNode, ['scripts/check-node.mjs'], { cwd: root, encoding: 'utf8' });
  t.equal(run.status, 1, 'exits non-zero, so `&&` stops the script there');
  t.equal(run.stdout, '');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, 'one line');
  t.match(lines[0], /needs Node\.js 22\.18 or newer/);
  t.match(lines[0], new RegExp(`this is Node ${old.replace(/\./g, '\\.')}`));
  t.match(lines[0], /nodejs\.org/, 'says where to get it');

  // `npm start` as a user with that Node on PATH: the line comes before anything else runs.
  const npm = path.join(path.dirname(systemNode), 'npm');
  if (!existsSync(npm)) return;
  const start = spawnSync(npm, ['start'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${path.dirname(systemNode)}:/bin`, npm_config_update_notifier: 'false' },
  });
  t.equal(start.status, 1);
  t.same(start.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('npm ')), lines, 'the same one line, and no stack trace');
  t.notMatch(start.stdout + start.stderr, /ERR_UNKNOWN_FILE_EXTENSION|vite|built in/);
});
