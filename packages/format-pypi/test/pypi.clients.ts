import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const PYTHON = '/usr/bin/python3';

/** An environment for Python clients with nothing of the machine's own configuration. */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('PIP_') && !k.startsWith('TWINE_') && !k.startsWith('PYTHON')) env[k] = v;
  return {
    ...env,
    HOME: home,
    TMPDIR: home,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_NO_INPUT: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    ...extra,
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command asynchronously (the server shares this process); never throws on exit codes. */
export async function sh(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(cmd, args, { ...opts, timeout: opts.timeout ?? 120_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

export interface BuiltProject {
  wheel: string;
  sdist: string;
}

/** Writes a small setuptools project and builds its wheel and sdist (offline, no isolation). */
export async function buildProject(
  root: string,
  p: { name: string; module: string; version: string; deps?: string[]; requiresPython?: string; body: string },
): Promise<BuiltProject> {
  const dir = join(root, p.name);
  await mkdir(join(dir, p.module), { recursive: true });
  await writeFile(join(dir, p.module, '__init__.py'), p.body);
  await writeFile(
    join(dir, 'pyproject.toml'),
    [
      '[build-system]',
      'requires = ["setuptools", "wheel"]',
      'build-backend = "setuptools.build_meta"',
      '[project]',
      `name = "${p.name}"`,
      `version = "${p.version}"`,
      `description = "Stowage test package ${p.name}"`,
      `requires-python = "${p.requiresPython ?? '>=3.7'}"`,
      `dependencies = [${(p.deps ?? []).map((d) => `"${d}"`).join(', ')}]`,
      '[tool.setuptools]',
      `packages = ["${p.module}"]`,
      '',
    ].join('\n'),
  );
  const out = await sh(PYTHON, ['-m', 'build', '--no-isolation', '--outdir', join(dir, 'dist'), dir], { cwd: dir, env: cleanEnv(root) });
  if (out.code !== 0) throw new Error(`build of ${p.name} failed: ${out.stderr}`);
  const files = await readdir(join(dir, 'dist'));
  const wheel = files.find((f) => f.endsWith('.whl'));
  const sdist = files.find((f) => f.endsWith('.tar.gz'));
  if (!wheel || !sdist) throw new Error(`build of ${p.name} made ${files.join(', ')}`);
  return { wheel: join(dir, 'dist', wheel), sdist: join(dir, 'dist', sdist) };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
