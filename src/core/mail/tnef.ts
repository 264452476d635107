// Unpacks winmail.dat (application/ms-tnef, MS-OXTNEF) into its attached files with node-tnef, the only
// place that library is used. It runs in a worker thread: the library patches String.prototype.replaceAll
// when loaded (kept out of our realm) and loops byte by byte, so a time and memory limit bound hostile input.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export type TnefFile = { name: string; content: Buffer };

const TNEF_SIGNATURE = 0x223e9f78;
const UNPACK_TIMEOUT_MS = 15_000;
const tnefModulePath = createRequire(import.meta.url).resolve('node-tnef');

/** What Exchange puts in place of an embedded message it could not encode: a notice, not a file. */
const PLACEHOLDER = Buffer.from('This attachment is a MAPI 1.0 embedded message');

export function isTnef(contentType: string, filename: string): boolean {
  return /^application\/(vnd\.)?ms-tnef$/i.test(contentType.trim()) || /^winmail\.dat$/i.test(filename.trim());
}

/**
 * Checks the attribute stream's framing before the library sees it: signature, then records of
 * level(1) id(4) length(4, little-endian) data checksum(2) that each fit in the buffer. The library
 * trusts lengths (a corrupt one makes it loop or allocate without bound), so anything else is refused.
 */
export function isWellFramedTnef(buf: Buffer): boolean {
  if (buf.length < 6 || buf.readUInt32LE(0) !== TNEF_SIGNATURE) return false;
  let offset = 6;
  while (offset < buf.length) {
    if (offset + 9 > buf.length) return false;
    const level = buf[offset]!;
    if (level !== 1 && level !== 2) return false;
    const len = buf.readUInt32LE(offset + 5);
    // The library reads the length as a signed 32-bit number.
    if (len > 0x7fffffff || offset + 9 + len + 2 > buf.length) return false;
    offset += 9 + len + 2;
  }
  return true;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const tnef = require(workerData.modulePath);
tnef.parseBuffer(Buffer.from(workerData.data), (failed, result) => {
  if (failed || !result) return parentPort.postMessage({ ok: false });
  const files = (result.Attachments || [])
    .filter((a) => a && Array.isArray(a.Data) && a.Data.length > 0)
    .map((a) => ({ name: typeof a.Title === 'string' ? a.Title : '', content: Uint8Array.from(a.Data) }));
  parentPort.postMessage({ ok: true, files }, files.map((f) => f.content.buffer));
});
`;

/**
 * The files inside a TNEF attachment, or null when it is not a readable TNEF stream (the caller then
 * keeps the winmail.dat itself). Placeholders for unencodable embedded messages are dropped.
 */
export async function unpackTnef(buf: Buffer): Promise<TnefFile[] | null> {
  if (!isWellFramedTnef(buf)) return null;
  const data = new Uint8Array(buf); // a copy the worker can own
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { data, modulePath: tnefModulePath },
    transferList: [data.buffer],
    // The library turns every byte into a JS number: allow a generous multiple of the input.
    resourceLimits: { maxOldGenerationSizeMb: Math.max(64, Math.ceil((buf.length * 40) / 1024 / 1024)) },
    stdout: true, // its logger writes JSON lines to stdout: drop them
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  try {
    const result = await new Promise<{ ok: boolean; files?: { name: string; content: Uint8Array }[] } | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), UNPACK_TIMEOUT_MS);
      worker.once('message', (m) => { clearTimeout(timer); resolve(m); });
      worker.once('error', () => { clearTimeout(timer); resolve(null); });
      worker.once('exit', () => { clearTimeout(timer); resolve(null); });
    });
    if (!result?.ok || !result.files) return null;
    return result.files
      .map((f) => ({ name: f.name.replace(/\0/g, '').trim(), content: Buffer.from(f.content.buffer, f.content.byteOffset, f.content.byteLength) }))
      .filter((f) => !f.content.subarray(0, PLACEHOLDER.length).equals(PLACEHOLDER));
  } finally {
    await worker.terminate();
  }
}
