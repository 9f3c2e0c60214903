import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** process.env without the machine's PIP_* settings (this one has PIP_FIND_LINKS), with no pip config file. */
export function pipFreeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^PIP_/i.test(k)) env[k] = v;
  return { ...env, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', ...extra };
}

export interface PipVenv {
  dir: string;
  python: string;
  /** Runs the venv's pip with `args` as given (add `--index-url`, `--no-cache-dir`); throws with pip's output. */
  pip(args: string[]): Promise<{ stdout: string; stderr: string; ms: number }>;
  /** Installed distributions: lowercased name → version (`pip list`). */
  installed(): Promise<Record<string, string>>;
}

/** A fresh venv of Debian's python3 (its pip is the one python3-venv bundles: 23.0.1 on Debian 12). */
export async function createPipVenv(dir: string): Promise<PipVenv> {
  await run('/usr/bin/python3', ['-m', 'venv', dir], { timeout: 120_000 });
  const pipBin = join(dir, 'bin/pip');
  const pip = async (args: string[]) => {
    const started = Date.now();
    try {
      const out = await run(pipBin, args, { env: pipFreeEnv(), timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
      return { ...out, ms: Date.now() - started };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`pip ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
  };
  return {
    dir,
    python: join(dir, 'bin/python'),
    pip,
    installed: async () => {
      const { stdout } = await pip(['list', '--format', 'json']);
      return Object.fromEntries((JSON.parse(stdout) as { name: string; version: string }[]).map((p) => [p.name.toLowerCase(), p.version]));
    },
  };
}
