import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { ensureWebBuilt, launchBrowser } from '@stowage/testkit';

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
    // `stowage serve` sends packages/web/dist as it is when the server starts.
    await ensureWebBuilt();
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

    // Then, as the README's web UI section says: open the server in a browser, sign in with
    // root's token, find the package and copy its install command, which works as copied.
    const browser = await launchBrowser();
    try {
      const site = `http://localhost:${port}`;
      const context = await browser.newContext({ baseURL: site });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: site });
      const page = await context.newPage();
      await page.goto('/');
      await page.getByRole('link', { name: 'Sign in' }).first().click();
      await page.getByLabel('Personal access token').fill(rootToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('.project-list').getByRole('link', { name: 'root/demo' }).click();
      await page.getByRole('link', { name: 'hello', exact: true }).click();
      await page.getByRole('heading', { name: /hello\s+1\.0\.0/, level: 1 }).waitFor();
      const install = page.locator('.instruction').filter({ hasText: 'hello.txt' });
      await install.getByRole('button', { name: 'Copy' }).click();
      await install.getByRole('button', { name: 'Copied' }).waitFor();
      const copied = await page.evaluate<string>('navigator.clipboard.readText()');
      expect(copied).toContain(`${site}/api/v4/projects/`);
      const fetched = await mkdtemp(join(tmpdir(), 'stowage-readme-copied-'));
      try {
        await run('bash', ['-euo', 'pipefail', '-c', copied.replace('<your_token>', rootToken)], { cwd: fetched, timeout: 30_000 });
        expect(await readFile(join(fetched, 'hello.txt'), 'utf8')).toBe('hello, stowage\n');
      } finally {
        await rm(fetched, { recursive: true, force: true });
      }
    } finally {
      await browser.close();
    }
    expect((await stop(server)).code).toBe(0);
  }, 180_000);
});
