import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClientResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * A sandbox for running real npm clients: its own HOME, npmrc and cache, so neither the
 * machine's configuration nor an earlier run leaks in. Always async: the server under
 * test runs in this process.
 */
export class ClientSandbox {
  private constructor(readonly root: string) {}

  static async create(): Promise<ClientSandbox> {
    return new ClientSandbox(await mkdtemp(join(tmpdir(), 'stowage-npm-')));
  }

  get home(): string {
    return join(this.root, 'home');
  }

  get npmrc(): string {
    return join(this.home, '.npmrc');
  }

  async dir(name: string): Promise<string> {
    const d = join(this.root, name);
    await mkdir(d, { recursive: true });
    return d;
  }

  async writeNpmrc(lines: string[]): Promise<void> {
    await mkdir(this.home, { recursive: true });
    await writeFile(this.npmrc, `${lines.join('\n')}\n`);
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NPM_|PNPM|YARN|NODE_OPTIONS)/i.test(k)) env[k] = v;
    return {
      ...env,
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, '.config'),
      XDG_CACHE_HOME: join(this.home, '.cache'),
      XDG_DATA_HOME: join(this.home, '.local/share'),
      npm_config_userconfig: this.npmrc,
      npm_config_globalconfig: join(this.home, 'npmrc-global'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      ...extra,
    };
  }

  /** Runs a client; never throws on a non-zero exit (tests assert on it). */
  async exec(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}): Promise<ClientResult> {
    try {
      const { stdout, stderr } = await run(cmd, args, { cwd, env: this.env(extra), timeout: 120_000, maxBuffer: 16 * 1024 ** 2 });
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number | string };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? String(err), code: typeof e.code === 'number' ? e.code : 1 };
    }
  }

  /** npm with a fresh cache per call, so every install really downloads. */
  async npm(args: string[], cwd: string): Promise<ClientResult> {
    const cache = await mkdtemp(join(this.root, 'cache-'));
    return this.exec('npm', [...args, '--cache', cache, '--userconfig', this.npmrc, '--no-audit', '--no-fund'], cwd);
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Writes a small package to publish: package.json plus files with contents unique to this version. */
export async function writePackage(dir: string, manifest: Record<string, unknown>, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
}

export function expectOk(r: ClientResult, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/**
 * yarn classic (1.x) from the npm registry, installed once per machine under the temp dir
 * (yarn is not on this machine). Returns the path of its bin script, or null if unreachable.
 */
export async function yarnClassic(): Promise<string | null> {
  const prefix = join(tmpdir(), 'stowage-test-yarn1');
  const bin = join(prefix, 'node_modules/yarn/bin/yarn.js');
  try {
    await readFile(bin);
    return bin;
  } catch {
    // not installed yet
  }
  try {
    await run('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', 'yarn@1'], { timeout: 120_000 });
    await readFile(bin);
    return bin;
  } catch {
    return null;
  }
}
