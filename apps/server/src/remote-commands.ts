import { type CachedRemoteFile, RemoteCache } from '@stowage/core';

import type { LoadedConfig } from './load-config';
import { type CommandOutput, formatBytes, withWorkerContext } from './packages-commands';

const defaultOutput = (): CommandOutput => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: Boolean(process.stderr.isTTY),
});

const PAGE = 100;
const COLUMNS = ['id', 'package_type', 'package_name', 'version', 'file_name', 'size', 'last_downloaded_at', 'upstream_url'];

function row(f: CachedRemoteFile): string {
  return [
    f.id,
    f.package_type,
    f.package_name,
    f.version ?? '-',
    f.file_name,
    f.size,
    new Date(f.last_used_at).toISOString(),
    f.upstream_url,
  ].join('\t');
}

/** `stowage remote list [--package-type T]`: every cached upstream file, tab-separated, then the totals. */
export async function remoteList(
  loaded: LoadedConfig,
  { packageType }: { packageType?: string },
  output: CommandOutput = defaultOutput(),
): Promise<number> {
  const known = loaded.formats.map((f) => f.name);
  if (packageType !== undefined && !known.includes(packageType)) {
    output.err(`stowage: --package-type ${packageType} is not an installed format (${known.join(', ')})\n`);
    return 2;
  }
  return withWorkerContext(loaded, async (ctx) => {
    const cache = ctx.get(RemoteCache);
    output.out(`${COLUMNS.join('\t')}\n`);
    let bytes = 0;
    let total = 0;
    for (let offset = 0; ; offset += PAGE) {
      const page = await cache.list({ packageType }, { offset, perPage: PAGE });
      total = page.total;
      for (const f of page.files) {
        output.out(`${row(f)}\n`);
        bytes += f.size;
      }
      if (page.files.length < PAGE) break;
    }
    output.out(`${total} cached file(s), ${bytes} bytes (${formatBytes(bytes)})\n`);
    return 0;
  });
}

export interface PruneOptions {
  maxSize?: number;
  maxUnusedDays?: number;
}

/**
 * `stowage remote prune [--max-size BYTES] [--max-unused-days N]`: applies the eviction policy
 * now (each limit defaults to packages.remote_cache's); the blob collector removes the bytes.
 */
export async function remotePrune(loaded: LoadedConfig, options: PruneOptions, output: CommandOutput = defaultOutput()): Promise<number> {
  const configured = loaded.config.packages.remote_cache;
  const policy = { maxSize: options.maxSize ?? configured.max_size, maxUnusedDays: options.maxUnusedDays ?? configured.max_unused_days };
  if (!policy.maxSize && !policy.maxUnusedDays) {
    output.err(
      'stowage: nothing to prune by: give --max-size or --max-unused-days (or set packages.remote_cache.max_size / max_unused_days)\n',
    );
    return 2;
  }
  const removed = await withWorkerContext(loaded, (ctx) => ctx.get(RemoteCache).evict(policy));
  output.out(
    `removed: ${removed.files} cached file(s), ${removed.bytes} bytes (${formatBytes(removed.bytes)})\n` +
      (removed.files
        ? `their bytes are deleted by the blob collector after packages.blob_grace_period_hours (${loaded.config.packages.blob_grace_period_hours} h)\n`
        : ''),
  );
  return 0;
}
