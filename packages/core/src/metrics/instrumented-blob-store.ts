import { performance } from 'node:perf_hooks';

import {
  BlobNotFoundError,
  type BlobStore,
  hasUnfinishedWrites,
  isListable,
  type ListableBlobStore,
  type UnfinishedWritesStore,
} from '../storage/blob-store';
import type { StowageMetrics } from './stowage-metrics';

type Method = (...args: never[]) => unknown;

/**
 * The store with every operation counted and timed (`stowage_blob_store_*`, labelled with the
 * store's kind), made where core opens its stores, so no store plugin measures itself. It has
 * exactly the optional methods the store has (`openFile`, `presignedGetUrl`, `touch`, `list`,
 * …): core asks for them by presence, so each one the contract names must be passed on here.
 * A missing key (`BlobNotFoundError`) is an answer, not an error. `get` and `openFile` are
 * timed to the open, not the read; `list` over its whole iteration.
 */
export function instrumentBlobStore(store: BlobStore, metrics: StowageMetrics): BlobStore {
  const labels = (operation: string) => ({ store: store.kind, operation });
  const timed = <F extends Method>(operation: string, fn: F): F => {
    const ops = metrics.storeOperations.series(labels(operation));
    const errors = metrics.storeErrors.series(labels(operation));
    const duration = metrics.storeDuration.series(labels(operation));
    return async function (this: unknown, ...args: Parameters<F>) {
      const start = performance.now();
      ops.value++;
      try {
        return await fn.apply(store, args);
      } catch (err) {
        if (!(err instanceof BlobNotFoundError)) errors.value++;
        throw err;
      } finally {
        duration.observe((performance.now() - start) / 1000);
      }
    } as F;
  };
  const timedIteration = <T, A extends unknown[]>(operation: string, fn: (...args: A) => AsyncIterable<T>) => {
    const ops = metrics.storeOperations.series(labels(operation));
    const errors = metrics.storeErrors.series(labels(operation));
    const duration = metrics.storeDuration.series(labels(operation));
    return async function* (...args: A): AsyncIterable<T> {
      const start = performance.now();
      ops.value++;
      try {
        yield* fn.apply(store, args);
      } catch (err) {
        errors.value++;
        throw err;
      } finally {
        duration.observe((performance.now() - start) / 1000);
      }
    };
  };

  const wrapped: BlobStore = {
    kind: store.kind,
    put: timed('put', store.put),
    get: timed('get', store.get),
    stat: timed('stat', store.stat),
    delete: timed('delete', store.delete),
    check: timed('check', store.check),
  };
  if (store.openFile) wrapped.openFile = timed('open_file', store.openFile);
  if (store.presignedGetUrl) wrapped.presignedGetUrl = timed('presign', store.presignedGetUrl);
  if (store.touch) wrapped.touch = timed('touch', store.touch);
  if (isListable(store)) (wrapped as ListableBlobStore).list = timedIteration('list', store.list);
  if (hasUnfinishedWrites(store)) {
    (wrapped as UnfinishedWritesStore).listUnfinished = timedIteration('list_unfinished', store.listUnfinished);
    (wrapped as UnfinishedWritesStore).removeUnfinished = timed('remove_unfinished', store.removeUnfinished);
  }
  return wrapped;
}
