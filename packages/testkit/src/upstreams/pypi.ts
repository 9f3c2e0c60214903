import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

import { cachedTree, cacheKey } from './cache';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const TREE_FORMAT = 1;

export interface PypiDistSpec {
  /** The project name as written in pyproject.toml (any case, `-`, `_` or `.`). */
  name: string;
  version: string;
  /** PEP 508 requirements, e.g. `up-beta>=1`. */
  dependencies?: string[];
  /** e.g. `>=3.7`: Requires-Python in the metadata and `data-requires-python` in the index. */
  requiresPython?: string;
}

export interface PypiTreeFile {
  /** The PEP 503 normalized project name (`up-alpha`). */
  project: string;
  version: string;
  filename: string;
  kind: 'wheel' | 'sdist';
  sha256: string;
  size: number;
  /** Relative to the tree's root (`files/<filename>`). */
  path: string;
  requiresPython?: string;
  /** Wheels only: the sha256 of `<filename>.metadata` (PEP 658), the wheel's METADATA. */
  metadataSha256?: string;
}

export interface PypiUpstreamTree {
  /** Serve this directory: the index is at `/simple/`, the files at `/files/`. */
  root: string;
  files: PypiTreeFile[];
  /** Normalized project name → its files. */
  projects: Record<string, PypiTreeFile[]>;
  /** One file by project (any spelling), version and kind. */
  file(project: string, version: string, kind: 'wheel' | 'sdist'): PypiTreeFile;
}

/**
 * `up-alpha` 1.0 and 1.1 need `up-beta>=1`; `up-beta` 1.0 declares Requires-Python `>=3.7`,
 * and `up-beta` 2.0 `<3`, which every Python 3 installer must skip (so pip picks 1.0).
 */
export const DEFAULT_PYPI_UPSTREAM_DISTS: readonly PypiDistSpec[] = [
  { name: 'up-beta', version: '1.0', requiresPython: '>=3.7' },
  { name: 'up-beta', version: '2.0', requiresPython: '<3' },
  { name: 'up-alpha', version: '1.0', dependencies: ['up-beta>=1'] },
  { name: 'up-alpha', version: '1.1', dependencies: ['up-beta>=1'] },
];

/** PEP 503: lowercase, runs of `-`, `_` and `.` become one `-`. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const toml = (s: string) => JSON.stringify(s);

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Builds one distribution's sdist and wheel with Debian's `python3 -m build`, without network or isolation. */
async function buildDist(work: string, outdir: string, spec: PypiDistSpec) {
  const module = spec.name.toLowerCase().replace(/[-.]+/g, '_');
  const dir = join(work, `${normalizePypiName(spec.name)}-${spec.version}`);
  await mkdir(join(dir, 'src', module), { recursive: true });
  const lines = [
    '[build-system]',
    'requires = ["setuptools>=61"]',
    'build-backend = "setuptools.build_meta"',
    '',
    '[project]',
    `name = ${toml(spec.name)}`,
    `version = ${toml(spec.version)}`,
    `description = ${toml(`${spec.name} ${spec.version}, a test upstream's distribution`)}`,
    `dependencies = [${(spec.dependencies ?? []).map(toml).join(', ')}]`,
  ];
  if (spec.requiresPython) lines.push(`requires-python = ${toml(spec.requiresPython)}`);
  await writeFile(join(dir, 'pyproject.toml'), `${lines.join('\n')}\n`);
  await writeFile(join(dir, 'src', module, '__init__.py'), `VERSION = ${JSON.stringify(spec.version)}\n`);
  try {
    await run(PYTHON, ['-m', 'build', '--no-isolation', '--outdir', outdir, dir], {
      cwd: dir,
      env: { ...process.env, PIP_NO_INDEX: '1', SOURCE_DATE_EPOCH: '1700000000' },
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`python3 -m build ${spec.name} ${spec.version} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Writes `<wheel>.metadata` (PEP 658) beside each wheel: its `*.dist-info/METADATA`, byte for byte. */
async function extractWheelMetadata(wheels: string[]) {
  const script = [
    'import sys, zipfile',
    'for whl in sys.argv[1:]:',
    '    with zipfile.ZipFile(whl) as z:',
    "        [name] = [n for n in z.namelist() if n.count('/') == 1 and n.endswith('.dist-info/METADATA')]",
    "        open(whl + '.metadata', 'wb').write(z.read(name))",
  ].join('\n');
  await run(PYTHON, ['-c', script, ...wheels]);
}

function projectPage(name: string, files: PypiTreeFile[]): string {
  const links = files.map((f) => {
    const attrs = [`href="../../${html(f.path)}#sha256=${f.sha256}"`];
    if (f.requiresPython) attrs.push(`data-requires-python="${html(f.requiresPython)}"`);
    if (f.metadataSha256)
      attrs.push(`data-dist-info-metadata="sha256=${f.metadataSha256}"`, `data-core-metadata="sha256=${f.metadataSha256}"`);
    return `    <a ${attrs.join(' ')}>${html(f.filename)}</a><br />`;
  });
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head><meta name="pypi:repository-version" content="1.1" /><title>Links for ' + html(name) + '</title></head>',
    '  <body>',
    `    <h1>Links for ${html(name)}</h1>`,
    ...links,
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

function rootPage(projects: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head><meta name="pypi:repository-version" content="1.1" /><title>Simple index</title></head>',
    '  <body>',
    ...projects.map((p) => `    <a href="${html(p)}/">${html(p)}</a><br />`),
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * A PyPI upstream's files (PEP 503), built once into the upstream cache from `dists` with
 * Debian's `python3 -m build --no-isolation`: `files/` holds each distribution's wheel and sdist
 * and each wheel's PEP 658 `.metadata`; `simple/index.html` lists the projects and
 * `simple/<normalized>/index.html` links each file relatively with `#sha256=`,
 * `data-requires-python` (HTML-escaped) and `data-dist-info-metadata` / `data-core-metadata`.
 * Serve `root` with startStaticHttp() and point pip at `<url>/simple/`. `files` lists what is
 * in it (its digests are those of this build: a rebuild makes other bytes).
 */
export async function pypiUpstreamTree(dists: readonly PypiDistSpec[] = DEFAULT_PYPI_UPSTREAM_DISTS): Promise<PypiUpstreamTree> {
  const { stdout: toolchain } = await run(PYTHON, [
    '-c',
    'import sys, setuptools, wheel; print(sys.version, setuptools.__version__, wheel.__version__)',
  ]);
  const root = await cachedTree('pypi', cacheKey(TREE_FORMAT, toolchain, dists), async (dir) => {
    const filesDir = join(dir, 'files');
    await mkdir(filesDir, { recursive: true });
    const files: PypiTreeFile[] = [];
    for (const spec of dists) {
      const before = new Set(await readdir(filesDir));
      await buildDist(join(dir, '.work'), filesDir, spec);
      const made = (await readdir(filesDir)).filter((f) => !before.has(f));
      const wheels = made.filter((f) => f.endsWith('.whl')).map((f) => join(filesDir, f));
      await extractWheelMetadata(wheels);
      for (const filename of made.sort()) {
        const file = join(filesDir, filename);
        const kind = filename.endsWith('.whl') ? 'wheel' : 'sdist';
        files.push({
          project: normalizePypiName(spec.name),
          version: spec.version,
          filename,
          kind,
          sha256: await sha256Of(file),
          size: (await stat(file)).size,
          path: `files/${filename}`,
          ...(spec.requiresPython ? { requiresPython: spec.requiresPython } : {}),
          ...(kind === 'wheel' ? { metadataSha256: await sha256Of(`${file}.metadata`) } : {}),
        });
      }
    }
    await rm(join(dir, '.work'), { recursive: true, force: true });
    const projects = [...new Set(files.map((f) => f.project))].sort();
    await mkdir(join(dir, 'simple'), { recursive: true });
    await writeFile(join(dir, 'simple', 'index.html'), rootPage(projects));
    for (const p of projects) {
      await mkdir(join(dir, 'simple', p), { recursive: true });
      await writeFile(
        join(dir, 'simple', p, 'index.html'),
        projectPage(
          p,
          files.filter((f) => f.project === p),
        ),
      );
    }
    await writeFile(join(dir, 'files.json'), JSON.stringify(files, null, 2));
  });
  const files = JSON.parse(await readFile(join(root, 'files.json'), 'utf8')) as PypiTreeFile[];
  const projects: Record<string, PypiTreeFile[]> = {};
  for (const f of files) (projects[f.project] ??= []).push(f);
  return {
    root,
    files,
    projects,
    file: (project, version, kind) => {
      const found = files.find((f) => f.project === normalizePypiName(project) && f.version === version && f.kind === kind);
      if (!found) throw new Error(`no ${kind} of ${project} ${version} in the PyPI upstream tree`);
      return found;
    },
  };
}
