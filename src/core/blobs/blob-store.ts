// Content-addressed file store (sha256). Writes are atomic (temp file + rename), so a crash never leaves
// a truncated blob under a real name; a file with no database row is swept later (sweepOrphanBlobs).
// Client mail and documents: files 0600 in 0700 folders, whatever the process umask.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type StoredBlob = { sha256: string; size: number };

export interface BlobStore {
  /** Store bytes; returns their sha256. Storing the same content twice is a no-op. */
  put(content: Readable | Buffer): Promise<StoredBlob>;
  get(sha256: string): Promise<Readable>;
  has(sha256: string): Promise<boolean>;
  delete(sha256: string): Promise<void>;
  /** Every stored blob with its modification time (for the orphan sweep). */
  list(): AsyncIterable<{ sha256: string; mtime: Date }>;
}

export const SHA = /^[0-9a-f]{64}$/;

/** The layout every store shares: ab/cd/abcd… (two levels of 256 keep directories and listings small). */
export function blobPath(sha: string): string {
  if (!SHA.test(sha)) throw new Error('invalid blob id');
  return `${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`;
}

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/** Writes content to a new file (which must not exist), hashing it on the way. */
export async function writeHashed(content: Readable | Buffer, file: string, mode = PRIVATE_FILE): Promise<StoredBlob> {
  if (Buffer.isBuffer(content)) {
    // Bytes in memory (a raw message): one hash call and one write, no stream machinery per blob.
    await writeFile(file, content, { flag: 'wx', mode });
    return { sha256: createHash('sha256').update(content).digest('hex'), size: content.length };
  }
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(content, meter, createWriteStream(file, { flags: 'wx', mode }));
  return { sha256: hash.digest('hex'), size };
}

export function createLocalBlobStore(root: string): BlobStore {
  const tmpDir = path.join(root, 'tmp');
  const fileOf = (sha: string) => path.join(root, blobPath(sha));
  // The root too: a store made by an older version (0755) stops being listable by other users.
  // (Best effort: a shared folder owned by someone else keeps its mode, and the blobs inside are still 0600.)
  const ready = mkdir(tmpDir, { recursive: true, mode: PRIVATE_DIR }).then(() => chmod(root, PRIVATE_DIR).catch(() => undefined));
  const dirs = new Set<string>();

  return {
    async put(content) {
      await ready;
      const tmp = path.join(tmpDir, randomUUID());
      try {
        const { sha256, size } = await writeHashed(content, tmp);
        const final = fileOf(sha256);
        const dir = path.dirname(final);
        // The sync stores thousands of blobs a minute: make each directory once per process, not per blob.
        if (!dirs.has(dir)) {
          await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
          dirs.add(dir);
        }
        // Over an existing copy too: same bytes, and a fresh mtime keeps the orphan sweep off it.
        await rename(tmp, final).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
          // The directory was removed behind our back (by an operator): make it again.
          await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
          await rename(tmp, final);
        });
        return { sha256, size };
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async get(sha) {
      const file = fileOf(sha);
      await stat(file);
      return createReadStream(file);
    },
    async has(sha) {
      try {
        await stat(fileOf(sha));
        return true;
      } catch {
        return false;
      }
    },
    async delete(sha) {
      await rm(fileOf(sha), { force: true });
    },
    async *list() {
      await ready;
      for (const a of await readdir(root)) {
        if (a === 'tmp' || a.length !== 2) continue;
        for (const b of await readdir(path.join(root, a)).catch(() => [] as string[])) {
          for (const name of await readdir(path.join(root, a, b)).catch(() => [] as string[])) {
            if (!SHA.test(name)) continue;
            const s = await stat(path.join(root, a, b, name)).catch(() => null);
            if (s) yield { sha256: name, mtime: s.mtime };
          }
        }
      }
    },
  };
}
