// The real clients, now and then: `npm publish` and `npm install`, `twine upload` and
// `pip download`, each in a sandbox of its own (HOME, config, a fresh cache), on the same
// pools the raw-HTTP load uses.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { npmPackage, sha256, wheel } from './fixtures.mjs';
import { Recorded } from './http.mjs';

const PYTHON = '/usr/bin/python3';
export const CLIENT_TIMEOUT_S = 300;

/** The machine's environment without any client configuration, HOME moved to `home`. */
function cleanEnv(home) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NPM_|PNPM|YARN|NODE_OPTIONS|PIP_|TWINE_|PYTHON)/i.test(k)) env[k] = v;
  const xdg = { XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') };
  return { ...env, ...xdg, HOME: home, TMPDIR: home, PIP_CONFIG_FILE: '/dev/null', PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
}

export function realClients({ base, project, group, token, dir, stats, pools }) {
  const registry = `${base}/api/v4/projects/${project.id}/packages/npm/`;
  const pypiUrl = `${base}/api/v4/projects/${project.id}/packages/pypi`;
  const hide = (s) => s.replaceAll(token, '<token>');
  // pip takes credentials in the index URL (pip masks them in its output).
  const index = `${pypiUrl.replace('://', `://__token__:${token}@`)}/simple`;

  /**
   * Runs `cmd` in a fresh sandbox: `files` (name → bytes) are written to its working
   * directory first, `args(cwd)` are its arguments, `check(cwd)` reads what it left (and
   * returns a problem, or nothing). A non-zero exit or a problem is an error of `op`.
   */
  async function client(op, cmd, args, { files = {}, check = async () => undefined } = {}) {
    const sandbox = await mkdtemp(join(dir, 'client-'));
    try {
      const home = join(sandbox, 'home');
      const cwd = join(sandbox, 'work');
      await mkdir(home, { recursive: true });
      await mkdir(cwd, { recursive: true });
      await writeFile(join(home, '.npmrc'), `@${group.path}:registry=${registry}\n${registry.replace(/^http:/, '')}:_authToken=${token}\n`);
      for (const [name, bytes] of Object.entries(files)) await writeFile(join(cwd, name), bytes);
      const argv = args(cwd);
      const request = `${cmd} ${hide(argv.join(' '))}`;
      const out = await new Promise((resolve) => {
        const opts = { cwd, env: cleanEnv(home), timeout: CLIENT_TIMEOUT_S * 1000, maxBuffer: 16 << 20 };
        execFile(cmd, argv, opts, (err, stdout, stderr) => resolve({ err, output: `${stderr}${stdout}` }));
      });
      if (out.err) {
        stats.error({ op, request, status: `exit ${out.err.code ?? out.err.signal}`, body: hide(out.output).slice(-1500) });
        throw new Recorded(`${cmd} failed`);
      }
      const problem = await check(cwd).catch((err) => `${err.message}`);
      if (problem) {
        stats.error({ op, request, status: 'wrong result', body: problem });
        throw new Recorded(problem);
      }
    } finally {
      await rm(sandbox, { recursive: true, force: true });
    }
  }

  const npmArgs = (cwd) => ['--registry', registry, '--cache', join(cwd, '.npm-cache'), '--no-audit', '--no-fund', '--loglevel', 'error'];

  /** Runs `fn` with a live entry of `pool` on loan (never deleted meanwhile); nothing when the pool is empty. */
  async function withEntry(pool, fn) {
    const e = pool.borrow();
    if (!e) return;
    try {
      await fn(e);
    } finally {
      pool.giveBack(e);
    }
  }

  return [
    {
      op: 'client.npm-publish',
      async run(op) {
        const name = pools.npm.pickName();
        const version = `2.0.${pools.npm.next()}`;
        const { bytes } = npmPackage(name, version);
        await client(op, 'npm', (cwd) => ['publish', join(cwd, 'pkg.tgz'), ...npmArgs(cwd)], { files: { 'pkg.tgz': bytes } });
        pools.npm.add({ name, version, sha: sha256(bytes) });
      },
    },
    {
      op: 'client.npm-install',
      run: (op) =>
        withEntry(pools.npm, (e) =>
          client(op, 'npm', (cwd) => ['install', ...npmArgs(cwd)], {
            files: { 'package.json': JSON.stringify({ name: 'soak-app', private: true, dependencies: { [e.name]: e.version } }) },
            async check(cwd) {
              const installed = JSON.parse(await readFile(join(cwd, 'node_modules', e.name, 'package.json'), 'utf8'));
              return installed.version === e.version ? undefined : `installed ${e.name}@${installed.version}, wanted ${e.version}`;
            },
          }),
        ),
    },
    {
      op: 'client.twine-upload',
      async run(op) {
        const name = pools.pypi.pickName();
        const version = `2.0.${pools.pypi.next()}`;
        const w = wheel(name, version);
        const args = ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', pypiUrl, '-u', '__token__', '-p', token];
        await client(op, 'twine', () => [...args, w.fileName], { files: { [w.fileName]: w.bytes } });
        pools.pypi.add({ name, version, fileName: w.fileName, sha: sha256(w.bytes) });
      },
    },
    {
      op: 'client.pip-download',
      run: (op) =>
        withEntry(pools.pypi, (e) =>
          client(
            op,
            PYTHON,
            () => ['-m', 'pip', 'download', '--no-deps', '--no-cache-dir', '-d', 'dl', '--index-url', index, `${e.name}==${e.version}`],
            {
              async check(cwd) {
                const got = sha256(await readFile(join(cwd, 'dl', e.fileName)));
                return got === e.sha ? undefined : `downloaded ${e.fileName} has sha256 ${got}, uploaded ${e.sha}`;
              },
            },
          ),
        ),
    },
  ];
}
