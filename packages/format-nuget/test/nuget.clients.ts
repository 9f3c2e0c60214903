import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Drivers for the real NuGet clients: NuGet.exe 5.8 on mono (v3) and Debian's NuGet 2.8.7 (v2),
// each run with its own HOME and XDG directories so no machine-wide config or cache leaks in.

/** The NuGet.exe 5.8 from the global npm package `nuget-exe`. */
export async function nugetExe(): Promise<string> {
  const root = (await run('npm', ['root', '-g'], { cwd: tmpdir(), env: process.env })).stdout.trim();
  const dir = join(root, 'nuget-exe');
  const exe = (await readdir(dir)).find((f) => /^nuget-.*\.exe$/i.test(f));
  if (!exe) throw new Error(`no nuget-*.exe in ${dir}`);
  return join(dir, exe);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A fresh HOME with XDG dirs; returns the environment for a client run. */
export async function isolatedEnv(root: string): Promise<NodeJS.ProcessEnv> {
  const home = join(root, 'home');
  for (const d of ['.config', '.cache', '.local/share', '.nuget/packages']) await mkdir(join(home, d), { recursive: true });
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_DATA_HOME: join(home, '.local/share'),
    NUGET_PACKAGES: join(home, '.nuget/packages'),
    NUGET_HTTP_CACHE_PATH: join(home, '.cache/nuget-http'),
    MONO_GC_PARAMS: 'nursery-size=16m',
    TERM: 'dumb',
    LANG: 'C.UTF-8',
  };
}

/** A nuget.config with one source and clear-text credentials (what `nuget sources add` cannot write cleanly). */
export async function writeNugetConfig(path: string, source: string, user: string, token: string, protocolVersion?: number): Promise<void> {
  const pv = protocolVersion ? ` protocolVersion="${protocolVersion}"` : '';
  await writeFile(
    path,
    `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources><clear/><add key="stowage" value="${source}"${pv}/></packageSources>
  <packageSourceCredentials><stowage><add key="Username" value="${user}"/><add key="ClearTextPassword" value="${token}"/></stowage></packageSourceCredentials>
  <config><add key="http_proxy" value=""/></config>
</configuration>
`,
  );
}

export interface NuspecSpec {
  id: string;
  version: string;
  description?: string;
  authors?: string;
  dependencies?: { id: string; version: string }[];
  /** Files (relative path → content) packed under content/. */
  files: Record<string, string>;
}

/** Writes a package project (nuspec + files) and runs `nuget pack` on it; returns the .nupkg path. */
export async function packWith(exe: string[], dir: string, env: NodeJS.ProcessEnv, spec: NuspecSpec): Promise<string> {
  const src = await mkdtemp(join(dir, `${spec.id}-`));
  for (const [rel, content] of Object.entries(spec.files)) {
    await mkdir(join(src, 'content', rel, '..'), { recursive: true });
    await writeFile(join(src, 'content', rel), content);
  }
  const deps = (spec.dependencies ?? []).map((d) => `<dependency id="${d.id}" version="${d.version}"/>`).join('');
  await writeFile(
    join(src, `${spec.id}.nuspec`),
    `<?xml version="1.0"?>
<package xmlns="http://schemas.microsoft.com/packaging/2010/07/nuspec.xsd">
  <metadata>
    <id>${spec.id}</id><version>${spec.version}</version>
    <authors>${spec.authors ?? 'Stowage Tests'}</authors>
    <description>${spec.description ?? `The ${spec.id} package`}</description>
    <projectUrl>https://example.com/${spec.id}</projectUrl>
    <tags>stowage test</tags>
    ${deps ? `<dependencies>${deps}</dependencies>` : ''}
  </metadata>
  <files><file src="content/**" target="content"/></files>
</package>
`,
  );
  const [cmd, ...pre] = exe;
  const r = await run(cmd, [...pre, 'pack', `${spec.id}.nuspec`, '-NonInteractive', '-OutputDirectory', dir], { cwd: src, env });
  if (r.code !== 0) throw new Error(`nuget pack failed: ${r.stdout}\n${r.stderr}`);
  const name = (await readdir(dir)).find(
    (f) => f.toLowerCase().startsWith(`${spec.id.toLowerCase()}.`) && f.endsWith('.nupkg') && f.includes(spec.version),
  );
  if (!name) throw new Error(`no nupkg for ${spec.id} in ${dir}`);
  return join(dir, name);
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
