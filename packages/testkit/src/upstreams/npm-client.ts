import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** process.env without the npm_config_* a pnpm or npm script run passes down (a registry, a cache, a user config). */
export function npmFreeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', ...extra };
}

export interface NpmInstallOptions {
  /** The only registry npm uses. */
  registry: string;
  dependencies: Record<string, string>;
  /** Lines of the project's .npmrc (e.g. `//host/:_authToken=…`, `@acme:registry=…`). */
  npmrc?: string[];
  /** More arguments, e.g. `--fetch-retries=0` (npm retries a failed tarball after 10 s, then 60 s). */
  args?: string[];
  timeoutMs?: number;
}

/**
 * `npm install` of a fresh project in `dir` (package.json with `dependencies`), with its own
 * npm cache in `dir/.npm-cache`, no user config and no audit. Throws with npm's output.
 */
export async function npmInstall(dir: string, opts: NpmInstallOptions): Promise<{ stdout: string; stderr: string; ms: number }> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: opts.dependencies }),
  );
  if (opts.npmrc) await writeFile(join(dir, '.npmrc'), `${opts.npmrc.join('\n')}\n`);
  const registry = opts.registry.endsWith('/') ? opts.registry : `${opts.registry}/`;
  const args = ['install', '--registry', registry, '--cache', join(dir, '.npm-cache'), '--no-audit', '--no-fund', ...(opts.args ?? [])];
  const started = Date.now();
  try {
    const out = await run('npm', args, {
      cwd: dir,
      env: npmFreeEnv({ npm_config_userconfig: join(dir, '.npmrc-user-none') }),
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { ...out, ms: Date.now() - started };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} in ${dir} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** The version of `name` that an install put in `dir/node_modules`. */
export async function installedNpmVersion(dir: string, name: string): Promise<string> {
  return (JSON.parse(await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}
