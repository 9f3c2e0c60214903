import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The repository's root: the nearest folder above this file with pnpm-workspace.yaml. */
function repoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml above ${__dirname}`);
  }
}

/** Where upstream trees are cached: STOWAGE_UPSTREAM_CACHE, else `<repo>/.cache/upstreams` (git-ignored). */
export function upstreamCacheDir(): string {
  return process.env.STOWAGE_UPSTREAM_CACHE ?? join(repoRoot(), '.cache', 'upstreams');
}

export function cacheKey(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/**
 * `<cache>/<name>-<key>`, built by `build` into a temp dir beside it and renamed into place,
 * so that test files running in parallel see the whole tree or none. When two build at once,
 * the first rename wins and the other's copy is dropped. Trees of the same name with another
 * key (older inputs), and builds abandoned over an hour ago, are removed once the new one is in
 * place.
 */
export async function cachedTree(name: string, key: string, build: (dir: string) => Promise<void>): Promise<string> {
  const cache = upstreamCacheDir();
  const final = join(cache, `${name}-${key}`);
  if (existsSync(final)) return final;
  await mkdir(cache, { recursive: true });
  const tmp = await mkdtemp(join(cache, `.${name}-building-`));
  try {
    await build(tmp);
    await rename(tmp, final);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (!((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(final))) throw err;
    return final;
  }
  for (const entry of await readdir(cache)) {
    const stale = entry.startsWith(`${name}-`) && entry !== `${name}-${key}`;
    // A build that a killed test process left half done.
    const abandoned = entry.startsWith(`.${name}-building-`) && (await stat(join(cache, entry))).mtimeMs < Date.now() - 3_600_000;
    if (stale || abandoned) await rm(join(cache, entry), { recursive: true, force: true });
  }
  return final;
}
