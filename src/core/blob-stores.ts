// Picks the blob store from config: a local directory by default, S3-compatible storage when configured.
import type { Config } from './config.ts';
import { createLocalBlobStore, type BlobStore } from './blob-store.ts';

export function createBlobStore(config: Config): BlobStore {
  if (config.s3) throw new Error('S3 blob storage is configured but not available in this build');
  return createLocalBlobStore(config.blobDir);
}
