import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startTestServer, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { composerFormat } from '../src';
import { packageZip } from './composer.fixtures';

// The real composer (Debian's 2.5.5 on PHP 8.2) against a running server, in one database
// mode: composer.api.spec.ts covers both modes at the HTTP level. Archives are published
// with curl exactly as the README shows; composer reads the private group's repository
// with a gitlab-token in auth.json (sent as PRIVATE-TOKEN, also on the dist downloads).

const run = promisify(execFile);

const strings = (version: string) =>
  packageZip(
    {
      name: 'acme/strings',
      description: 'String helpers',
      type: 'library',
      license: 'MIT',
      autoload: { 'psr-4': { 'Acme\\Strings\\': 'src/' } },
    },
    {
      'src/Shout.php': `<?php\nnamespace Acme\\Strings;\n\nfinal class Shout\n{\n    public static function it(string $s): string { return strtoupper($s) . '!'; }\n    public const VERSION = '${version}';\n}\n`,
    },
    // Like a GitHub archive: everything under one top directory.
    `acme-strings-${version}/`,
  );

/** The same package as an archive made by the `zip` command (Info-ZIP: extra fields, directory entries). */
async function zipCommand(dir: string, version: string): Promise<Buffer> {
  const top = join(dir, `strings-${version}`);
  await mkdir(join(top, 'src'), { recursive: true });
  const entries = await listEntries(strings(version));
  for (const [name, data] of entries) await writeFile(join(top, name), data);
  const out = join(dir, `strings-${version}.zip`);
  await run('zip', ['-qr', out, `strings-${version}`], { cwd: dir });
  return readFile(out);
}

/** The files of a fixture archive, by unzipping it with the `unzip` command. */
async function listEntries(zip: Buffer): Promise<[string, Buffer][]> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-unzip-'));
  try {
    await writeFile(join(dir, 'a.zip'), zip);
    await run('unzip', ['-q', 'a.zip', '-d', 'x'], { cwd: dir });
    const [top] = await readdir(join(dir, 'x'));
    const names = ['composer.json', 'src/Shout.php'];
    return Promise.all(names.map(async (n): Promise<[string, Buffer]> => [n, await readFile(join(dir, 'x', top, n))]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const greeter = (greeting: string) =>
  packageZip(
    {
      name: 'acme/greeter',
      type: 'library',
      require: { php: '>=8.0', 'acme/strings': '^1.0' },
      autoload: { 'psr-4': { 'Acme\\Greeter\\': 'src/' } },
    },
    {
      'src/Greeter.php': `<?php\nnamespace Acme\\Greeter;\n\nuse Acme\\Strings\\Shout;\n\nfinal class Greeter\n{\n    public function hello(string $name): string { return Shout::it('${greeting} ' . $name); }\n}\n`,
      'README.md': '# greeter\n',
    },
  );

const APP = `<?php
require __DIR__ . '/vendor/autoload.php';
echo (new Acme\\Greeter\\Greeter())->hello('stowage'), ' ', Acme\\Strings\\Shout::VERSION, "\\n";
`;

describe('composer against Stowage (postgres)', () => {
  let s: TestServer;
  let tmp: string;
  let user: TestUser;
  let group: { id: number };
  let project: TestProject;
  let host: string;
  let deploy: { username: string; token: string };

  async function curlPublish(zip: Buffer, field: string, value: string) {
    const file = join(tmp, `upload-${Math.random().toString(16).slice(2)}.zip`);
    await writeFile(file, zip);
    const url = `${s.url}/api/v4/projects/${project.id}/packages/composer`;
    const { stdout } = await run('curl', [
      '--silent',
      '--fail-with-body',
      '--header',
      `PRIVATE-TOKEN: ${user.token}`,
      '--form',
      `file=@${file}`,
      '--form',
      `${field}=${value}`,
      url,
    ]);
    expect(JSON.parse(stdout)).toEqual({ message: '201 Created' });
  }

  /** A clean composer project using only the group's repository, with the token in auth.json. */
  async function newApp(
    name: string,
    auth: 'gitlab-token' | 'http-basic' | 'none' = 'gitlab-token',
  ): Promise<{ dir: string; composer: (...args: string[]) => Promise<string> }> {
    const dir = join(tmp, name);
    const home = join(tmp, `${name}-home`);
    await mkdir(dir, { recursive: true });
    await mkdir(home, { recursive: true });
    await writeFile(join(dir, 'composer.json'), JSON.stringify({ name: 'test/app', require: {} }));
    if (auth === 'gitlab-token') await writeFile(join(dir, 'auth.json'), JSON.stringify({ 'gitlab-token': { [host]: user.token } }));
    if (auth === 'http-basic') {
      await writeFile(
        join(dir, 'auth.json'),
        JSON.stringify({ 'http-basic': { [host]: { username: deploy.username, password: deploy.token } } }),
      );
    }
    await writeFile(join(dir, 'app.php'), APP);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      COMPOSER_HOME: join(home, 'composer'),
      COMPOSER_CACHE_DIR: join(home, 'cache'),
      COMPOSER_ALLOW_SUPERUSER: '1',
      COMPOSER_NO_INTERACTION: '1',
    };
    const composer = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run('composer', [...args, '--no-interaction', '--no-ansi'], { cwd: dir, env, timeout: 40_000 });
        return stdout + stderr;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        throw new Error(`composer ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
      }
    };
    // GitLab's documented setup (https://docs.gitlab.com/user/packages/composer_repository/#install-a-composer-package).
    await composer('config', 'repo.packagist', 'false');
    await composer('config', 'secure-http', 'false');
    await composer('config', 'gitlab-domains', host);
    await composer('config', 'repositories.stowage', 'composer', `${s.url}/api/v4/group/${group.id}/-/packages/composer/packages.json`);
    return { dir, composer };
  }

  const php = async (dir: string) => (await run('php', ['app.php'], { cwd: dir })).stdout;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'stowage-composer-'));
    s = await startTestServer({ formats: [composerFormat], mode: 'postgres', listen: true });
    host = new URL(s.url).host;
    user = await s.api.createUser('php-dev');
    group = await s.api.createGroup('php-team');
    project = await s.api.createProject('libs', { namespaceId: group.id });
    await s.api.addMember({ group: group.id }, user.id, 30);
    deploy = await s.api.createDeployToken({ group: group.id }, ['read_package_registry']);
    await curlPublish(strings('1.0.0'), 'version', '1.0.0');
    await curlPublish(await zipCommand(tmp, '1.1.0'), 'tag', 'v1.1.0');
    await curlPublish(greeter('Hello'), 'tag', 'v1.0.0');
    await curlPublish(greeter('Howdy'), 'branch', 'main');
  }, 30_000);
  afterAll(async () => {
    await s?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('requires a package and its dependency into a clean project, then installs from the lock file', async () => {
    const app = await newApp('app');
    await app.composer('require', 'acme/greeter:^1.0');
    expect((await stat(join(app.dir, 'vendor/acme/greeter/src/Greeter.php'))).isFile()).toBe(true);
    expect((await stat(join(app.dir, 'vendor/acme/strings/src/Shout.php'))).isFile()).toBe(true);
    expect((await stat(join(app.dir, 'vendor/acme/greeter/README.md'))).isFile()).toBe(true);
    expect(await php(app.dir)).toBe('HELLO STOWAGE! 1.1.0\n');

    const lock = JSON.parse(await readFile(join(app.dir, 'composer.lock'), 'utf8'));
    const locked = Object.fromEntries(lock.packages.map((p: { name: string; version: string; dist: { url: string } }) => [p.name, p]));
    expect([locked['acme/greeter'].version, locked['acme/strings'].version]).toEqual(['1.0.0', '1.1.0']);
    expect(locked['acme/greeter'].dist.url).toMatch(
      new RegExp(`^${s.url}/api/v4/projects/${project.id}/packages/composer/archives/acme/greeter\\.zip\\?sha=[0-9a-f]{40}$`),
    );

    // From the lock file alone, with an empty cache.
    await rm(join(app.dir, 'vendor'), { recursive: true });
    await rm(join(app.dir, '..', 'app-home', 'cache'), { recursive: true, force: true });
    const out = await app.composer('install');
    expect(out).toMatch(/Installing acme\/strings \(1\.1\.0\)/);
    expect(await php(app.dir)).toBe('HELLO STOWAGE! 1.1.0\n');
  }, 50_000);

  it('is refused without the token: the group is private', async () => {
    const app = await newApp('anonymous', 'none');
    await expect(app.composer('require', 'acme/greeter:^1.0')).rejects.toThrow(/401|authenticat|credentials/i);
  }, 30_000);

  it('installs the dev-main branch version and a pinned dependency version with a deploy token (http-basic)', async () => {
    const app = await newApp('dev-app', 'http-basic');
    await app.composer('require', 'acme/greeter:dev-main', 'acme/strings:1.0.0');
    expect(await php(app.dir)).toBe('HOWDY STOWAGE! 1.0.0\n');
    const lock = JSON.parse(await readFile(join(app.dir, 'composer.lock'), 'utf8'));
    expect(lock.packages.map((p: { name: string; version: string }) => `${p.name}@${p.version}`).sort()).toEqual([
      'acme/greeter@dev-main',
      'acme/strings@1.0.0',
    ]);
  }, 50_000);
});
