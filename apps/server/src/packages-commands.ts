import type { INestApplicationContext } from '@nestjs/common';
import {
  BlobMigration,
  type BlobStoreKind,
  createLogger,
  createStowageWorker,
  type MigrationProgress,
  type MigrationSummary,
  type Tally,
  type VerifySummary,
} from '@stowage/core';

import type { LoadedConfig } from './load-config';

/** Where a command writes: the progress bar goes to stderr on a terminal only, the summary to stdout. */
export interface CommandOutput {
  out: (s: string) => void;
  err: (s: string) => void;
  tty: boolean;
}

const defaultOutput = (): CommandOutput => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: Boolean(process.stderr.isTTY),
});

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function progressLine(p: MigrationProgress, width = 30): string {
  const ratio = p.total ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${Math.floor(ratio * 100)}%  moved ${p.moved}  failed ${p.failed}  ${formatBytes(p.bytes)}`;
}

export function migrationReport(s: MigrationSummary): string {
  const lines = [`moved: ${s.moved}`, `skipped: ${s.skipped}`, `failed: ${s.failed}`, `bytes: ${s.bytes} (${formatBytes(s.bytes)})`];
  for (const sha of s.failures.slice(0, 50)) lines.push(`failed to move blob ${sha}`);
  if (s.failures.length > 50) lines.push(`… and ${s.failures.length - 50} more`);
  if (s.interrupted) lines.push('interrupted: run the command again to finish (moves already done are kept)');
  else if (s.failed) lines.push('some blobs could not be moved; they stay readable where they are. Run the command again to retry them.');
  return `${lines.join('\n')}\n`;
}

const tally = (t: Tally) => `${t.count}, ${t.bytes} bytes (${formatBytes(t.bytes)})`;

export function verifyReport(v: VerifySummary): string {
  const lines = [`checked: ${v.checked}`, `ok: ${v.ok}`, `problems: ${v.problems.length}`, `bytes: ${v.bytes} (${formatBytes(v.bytes)})`];
  let stale = 0;
  for (const [store, l] of Object.entries(v.leftovers)) {
    const kinds = [
      ['unfinished uploads', l!.unfinished],
      [store === 'local' ? 'unreferenced files' : 'unreferenced objects', l!.unreferenced],
    ] as const;
    for (const [what, left] of kinds) {
      if (!left.found.count) continue;
      stale += left.stale.count;
      const removed = v.swept ? `; removed: ${tally(left.removed)}` : '';
      lines.push(
        `${what} in ${store} storage: ${tally(left.found)}; older than the ${v.graceHours} h grace period: ${tally(left.stale)}${removed}`,
      );
    }
  }
  if (stale && !v.swept)
    lines.push('stowage packages verify --sweep removes those older than the grace period (so does the hourly sweep job)');
  for (const p of v.problems) lines.push(`${p.sha256} (${p.store} ${p.storage_key}): ${p.problem}`);
  return `${lines.join('\n')}\n`;
}

/** Runs `fn` in a worker context of the configured server (database, stores, queues), closed after. */
export async function withWorkerContext<T>(loaded: LoadedConfig, fn: (ctx: INestApplicationContext) => Promise<T>): Promise<T> {
  const { config } = loaded;
  const level = ['debug', 'trace'].includes(config.log.level) ? config.log.level : 'warn';
  // A worker for the duration: it runs the move jobs it enqueues (any `stowage worker` helps).
  const ctx = await createStowageWorker({
    config,
    formats: loaded.formats,
    storages: loaded.storages,
    processJobs: true,
    rootBootstrap: { rootToken: process.env.STOWAGE_ROOT_TOKEN || undefined, announce: (message) => process.stdout.write(message) },
    logger: createLogger(level),
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

function withWorker<T>(loaded: LoadedConfig, fn: (migration: BlobMigration) => Promise<T>): Promise<T> {
  return withWorkerContext(loaded, (ctx) => fn(ctx.get(BlobMigration)));
}

export interface MigrateOptions {
  to: BlobStoreKind;
  batch: number;
}

/** `stowage packages migrate [--to object|local] [--batch N]`: 0 when every blob is where it should be. */
export async function packagesMigrate(
  loaded: LoadedConfig,
  { to, batch }: MigrateOptions,
  output: CommandOutput = defaultOutput(),
): Promise<number> {
  if (!loaded.config.packages.object_store.enabled) {
    output.err('stowage: packages.object_store.enabled is false: there is no object storage to migrate to or from\n');
    return 78;
  }
  const abort = new AbortController();
  const onSignal = () => {
    output.err('\nstopping after the current batch…\n');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await withWorker(loaded, (m) =>
      m.migrate({
        to,
        batch,
        signal: abort.signal,
        onProgress: (p) => {
          if (output.tty) output.err(`\r${progressLine(p)}`);
        },
      }),
    );
    if (output.tty) output.err('\n');
    output.out(`migration to ${to} storage ${summary.interrupted ? 'interrupted' : 'finished'}\n${migrationReport(summary)}`);
    return summary.interrupted ? 130 : summary.failed ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * `stowage packages verify [--sweep]`: 0 when every blob is in its store with the right size
 * and sha256. Also reports what crashes left in each store (temp files of cut-short uploads,
 * stored files and objects no blob refers to); --sweep removes those older than
 * packages.blob_grace_period_hours.
 */
export async function packagesVerify(
  loaded: LoadedConfig,
  { sweep }: { sweep: boolean },
  output: CommandOutput = defaultOutput(),
): Promise<number> {
  const result = await withWorker(loaded, (m) =>
    m.verify({
      sweep,
      onProgress: (checked, total) => {
        if (output.tty) output.err(`\rverifying ${checked}/${total}`);
      },
    }),
  );
  if (output.tty) output.err('\n');
  output.out(verifyReport(result));
  return result.problems.length ? 1 : 0;
}
