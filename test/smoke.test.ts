import t from 'tap';
import { loadConfig } from '../src/core/config.ts';
t.test('config defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.port, 3000);
});
