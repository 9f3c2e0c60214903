import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { freePort, ready, running, SERVER_DIR, stop, stowage } from './server-process';

const run = promisify(execFile);
const README = resolve(SERVER_DIR, '../../README.md');

/** The shell block between `<!-- walkthrough -->` and `<!-- /walkthrough -->` in the README. */
async function walkthrough(): Promise<string> {
  const text = await readFile(README, 'utf8');
  const m = /<!-- walkthrough -->\s*```sh\n([\s\S]*?)```\s*<!-- \/walkthrough -->/.exec(text);
  if (!m) throw new Error('README.md has no walkthrough block');
  return m[1];
}

// The README's curl walk-through, run as written against the real server on its embedded
// default; only the two lines a reader edits (where the server is, root's token) change.
describe('README walk-through', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-readme-'));
  });
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all([...running].map((p) => p.exited));
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a project and a token, uploads and downloads the same bytes', async () => {
    const script = await walkthrough();
    expect(script).toMatch(/^export STOWAGE=http:\/\/localhost:8080$/m);
    expect(script).toMatch(/^export ROOT_TOKEN=\S+$/m);

    const port = await freePort();
    const rootToken = 'stwpat-readme-walkthrough-0000000001';
    const server = stowage(['serve'], dir, {
      STOWAGE_SERVER__PORT: String(port),
      STOWAGE_ROOT_TOKEN: rootToken,
      STOWAGE_LOG__LEVEL: 'warn',
    });
    await ready(server, `http://127.0.0.1:${port}`);

    const edited = script
      .replace(/^export STOWAGE=.*$/m, `export STOWAGE=http://localhost:${port}`)
      .replace(/^export ROOT_TOKEN=.*$/m, `export ROOT_TOKEN=${rootToken}`);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', edited], { cwd: dir, timeout: 60_000 });

    expect(stdout).toContain('"path_with_namespace":"root/demo"');
    expect(stdout).toContain('{"message":"201 Created"}');
    expect(stdout).toContain('same bytes');
    const list = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(list).toEqual([expect.objectContaining({ name: 'hello', version: '1.0.0', package_type: 'generic', status: 'default' })]);
    expect(await readFile(join(dir, 'downloaded.txt'), 'utf8')).toBe('hello, stowage\n');
    expect((await stop(server)).code).toBe(0);
  }, 120_000);
});
