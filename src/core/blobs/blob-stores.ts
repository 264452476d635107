// Picks the blob store from config: a local directory by default, S3-compatible storage when configured.
import type { Config } from '../platform/config.ts';
import { createLocalBlobStore, type BlobStore } from './blob-store.ts';
import { createS3BlobStore } from './s3-blob-store.ts';

export function createBlobStore(config: Config): BlobStore {
  return config.s3 ? createS3BlobStore(config.s3) : createLocalBlobStore(config.blobDir);
}
