import type { BlobStoreKind } from '../storage/blob-store';

/** Moves one blob to another store (background upload, `stowage packages migrate`). */
export const MOVE_BLOB_JOB = 'blobs.move';

export interface MoveBlobJob {
  sha256: string;
  to: BlobStoreKind;
}

/** Background uploads retry for about half an hour of an object-store outage (2 s, 4 s, … 17 min). */
export const BACKGROUND_MOVE_OPTIONS = { attempts: 10, backoffMs: 2000 } as const;

/** The job id of a blob row's background upload: one per stored copy, however often it is enqueued. */
export function backgroundMoveJobId(sha256: string, storageKey: string): string {
  return `blob-upload:${sha256}:${storageKey.replace(/\//g, '')}`;
}
