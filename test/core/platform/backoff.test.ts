// One retry rule: exponential ceilings, full jitter between 0 and the ceiling, or the plain schedule.
import t from 'tap';
import { backoffDelayMs } from '../../../src/core/platform/backoff.ts';

t.test('full jitter: anywhere from 0 to the exponential ceiling, capped at maxMs', async (t) => {
  const opts = { baseMs: 100, maxMs: 1000 };
  t.equal(backoffDelayMs(1, opts, () => 0), 0, 'the low end is 0 (full, not equal, jitter)');
  t.equal(backoffDelayMs(1, opts, () => 0.999999), 100);
  t.equal(backoffDelayMs(3, opts, () => 0.999999), 400, 'doubles per attempt');
  t.equal(backoffDelayMs(3, opts, () => 0.5), 200, 'half way is half the ceiling');
  t.equal(backoffDelayMs(10, opts, () => 0.999999), 1000, 'never above maxMs');
});

t.test('no jitter: the plain exponential schedule of BullMQ job retries', async (t) => {
  t.same([1, 2, 3, 4].map((a) => backoffDelayMs(a, { baseMs: 100, jitter: 'none' }, () => 0)), [100, 200, 400, 800]);
});
