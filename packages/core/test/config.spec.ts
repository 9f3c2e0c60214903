import 'reflect-metadata';

import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { localStorage, localStoragePath } from '@stowage/storage-local';
import { s3Storage, type S3StorageConfig } from '@stowage/storage-s3';
import { IsIn } from 'class-validator';

import {
  ConfigError,
  envOverrides,
  externalBaseUrl,
  FormatConfig,
  type FormatConfigSchemas,
  readRawConfig,
  resolveConfig,
  type StowageConfig,
} from '../src/config';

// A format plugin's own config section, as a plugin would declare it.
class DemoFormatConfig extends FormatConfig {
  override max_file_size = 1000;
  @IsIn(['strict', 'lenient']) mode = 'strict';
}
const FORMATS: FormatConfigSchemas = new Map([
  ['demo', DemoFormatConfig],
  ['other', FormatConfig],
]);
// The built-in storage plugins own the storage keys (storage_path; remote_directory, connection).
const STORAGES = [localStorage, s3Storage];
/** The object store's section with the S3 plugin's keys. */
const objectStore = (c: StowageConfig) => c.packages.object_store as typeof c.packages.object_store & S3StorageConfig;

/** The problems a ConfigError lists, or a failure if the config was accepted. */
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function yamlFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** Reads file + env exactly as the server does, then validates. */
function load(file: string | undefined, env: NodeJS.ProcessEnv = {}): StowageConfig {
  return resolveConfig(readRawConfig({ file, env }), FORMATS, STORAGES);
}

describe('defaults', () => {
  it('with nothing configured: port 8080, ./data made absolute, storage under it, external_url derived', () => {
    const c = resolveConfig({}, FORMATS, STORAGES);
    expect(c.server.port).toBe(8080);
    expect(c.server.host).toBe('0.0.0.0');
    expect(c.data_dir).toBe(resolve('data'));
    expect(localStoragePath(c)).toBe(join(resolve('data'), 'packages'));
    expect(c.server.external_url).toBe('http://localhost:8080');
    expect(c.database.url).toBeUndefined();
    expect(c.redis.url).toBeUndefined();
    expect(c.packages.enabled).toBe(true);
    expect(c.packages.object_store.enabled).toBe(false);
    expect(objectStore(c).connection.provider).toBe('AWS');
    expect(c.plugins).toEqual([]);
    // every installed format gets its section with defaults, enabled unless disabled
    expect(c.formats.demo).toBeInstanceOf(DemoFormatConfig);
    expect(c.formats.demo.enabled).toBe(true);
    expect((c.formats.demo as DemoFormatConfig).max_file_size).toBe(1000);
    expect(c.formats.other.enabled).toBe(true);
  });

  it('derives storage_path and external_url from the values given; strips a trailing slash', () => {
    const c = resolveConfig({ data_dir: '/srv/stowage', server: { port: 9999 } }, FORMATS, STORAGES);
    expect(localStoragePath(c)).toBe('/srv/stowage/packages');
    expect(c.server.external_url).toBe('http://localhost:9999');
    const d = resolveConfig(
      { data_dir: 'rel', packages: { storage_path: 'blobs' }, server: { external_url: 'https://pkg.example.com/' } },
      FORMATS,
      STORAGES,
    );
    expect(d.data_dir).toBe(resolve('rel'));
    expect(localStoragePath(d)).toBe(resolve('blobs'));
    expect(d.server.external_url).toBe('https://pkg.example.com');
    expect(externalBaseUrl(c)).toBe('http://localhost:9999');
    expect(externalBaseUrl(d)).toBe('https://pkg.example.com');
  });
});

describe('validation: every invalid value is reported with its key path, all at once', () => {
  it('collects problems from every section in one error', async () => {
    const file = await yamlFile(
      'bad.yml',
      [
        'server:',
        '  port: 70000',
        '  external_url: "not a url"',
        'database:',
        '  url: mysql://localhost/db',
        'colour: blue',
        'packages:',
        '  enabled: maybe',
        '  object_store:',
        '    connection:',
        '      region: [eu-west-1]',
        '      aws_signature_version: 9',
        '      secret: x',
        'formats:',
        '  helm:',
        '    enabled: true',
        '  demo:',
        '    max_file_size: -1',
        '    mode: sloppy',
        '    extra: 1',
        'plugins: "@acme/helm"',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(file));
    const byKey = new Map<string, string[]>();
    for (const p of problems) {
      const m = /^([a-z0-9_.]+): (.+)$/.exec(p);
      expect(m).not.toBeNull(); // every problem is "key.path: what is wrong"
      byKey.set(m![1], [...(byKey.get(m![1]) ?? []), m![2]]);
    }
    expect([...byKey.keys()].sort()).toEqual(
      [
        'server.port',
        'server.external_url',
        'database.url',
        'colour',
        'packages.enabled',
        'packages.object_store.connection.region',
        'packages.object_store.connection.aws_signature_version',
        'packages.object_store.connection.secret',
        'formats.helm',
        'formats.demo.max_file_size',
        'formats.demo.mode',
        'formats.demo.extra',
        'plugins',
      ].sort(),
    );
    expect(byKey.get('server.port')!.join()).toMatch(/65535/);
    expect(byKey.get('server.external_url')!.join()).toMatch(/URL/i);
    expect(byKey.get('database.url')!.join()).toMatch(/postgres:\/\//);
    expect(byKey.get('colour')).toEqual(['unknown key']);
    expect(byKey.get('packages.object_store.connection.secret')).toEqual(['unknown key']);
    expect(byKey.get('formats.demo.extra')).toEqual(['unknown key']);
    expect(byKey.get('packages.enabled')!.join()).toMatch(/boolean/);
    expect(byKey.get('packages.object_store.connection.region')!.join()).toMatch(/string/);
    expect(byKey.get('packages.object_store.connection.aws_signature_version')!.join()).toMatch(/4/);
    expect(byKey.get('formats.helm')!.join()).toMatch(/no format plugin .*installed: demo, other/);
    expect(byKey.get('formats.demo.max_file_size')!.join()).toMatch(/0/);
    expect(byKey.get('formats.demo.mode')!.join()).toMatch(/strict, lenient/);
    // and the error message an operator sees lists them all
    const err = (() => {
      try {
        load(file);
      } catch (e) {
        return e as Error;
      }
    })()!;
    for (const p of problems) expect(err.message).toContain(p);
  });

  it('a port that is not a number, from the environment, names the key', () => {
    expect(problemsOf(() => load(undefined, { STOWAGE_SERVER__PORT: 'abc' }))).toEqual([expect.stringMatching(/^server\.port: .*integer/)]);
    expect(problemsOf(() => load(undefined, { STOWAGE_SERVER__PORT: '8080.5' }))).toEqual([expect.stringMatching(/^server\.port: /)]);
  });

  it('timeouts take fractions of a second, from the environment too, and no negative or non-number', () => {
    const config = load(undefined, { STOWAGE_SERVER__BODY_TIMEOUT: '0.5', STOWAGE_SERVER__HEADERS_TIMEOUT: '0' });
    expect([config.server.body_timeout, config.server.headers_timeout, config.server.keep_alive_timeout]).toEqual([0.5, 0, 72]);
    expect(
      problemsOf(() => load(undefined, { STOWAGE_SERVER__BODY_TIMEOUT: 'soon', STOWAGE_SERVER__HEADERS_TIMEOUT: '-1' })).map(
        (p) => p.split(':')[0],
      ),
    ).toEqual(['server.headers_timeout', 'server.body_timeout']);
    expect(problemsOf(() => load(undefined, { STOWAGE_SERVER__KEEP_ALIVE_TIMEOUT: '0' }))).toEqual([
      expect.stringMatching(/^server\.keep_alive_timeout: /),
    ]);
  });

  it('local_download_offload: off by default; from the environment; a prefix must start and end with /, a header be a name', () => {
    expect({ ...load(undefined).packages.local_download_offload }).toEqual({
      enabled: false,
      header: 'X-Accel-Redirect',
      prefix: '/_stowage_blobs/',
    });
    const on = load(undefined, {
      STOWAGE_PACKAGES__LOCAL_DOWNLOAD_OFFLOAD__ENABLED: 'true',
      STOWAGE_PACKAGES__LOCAL_DOWNLOAD_OFFLOAD__HEADER: 'X-Sendfile',
      STOWAGE_PACKAGES__LOCAL_DOWNLOAD_OFFLOAD__PREFIX: '/srv/stowage/packages/',
    });
    expect({ ...on.packages.local_download_offload }).toEqual({ enabled: true, header: 'X-Sendfile', prefix: '/srv/stowage/packages/' });
    const problems = problemsOf(() =>
      resolveConfig({ packages: { local_download_offload: { header: 'X-Accel: evil', prefix: '/blobs' } } }, FORMATS, STORAGES),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'packages.local_download_offload.header',
      'packages.local_download_offload.prefix',
    ]);
  });

  it('a section given as a scalar is reported, not crashed on', () => {
    const problems = problemsOf(() =>
      resolveConfig({ server: 'big', formats: 'all', packages: { object_store: { connection: 5 } } }, FORMATS, STORAGES),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^server: /),
        expect.stringMatching(/^formats: must be a mapping/),
        expect.stringMatching(/^packages\.object_store\.connection: /),
      ]),
    );
    const demo = problemsOf(() => resolveConfig({ formats: { demo: 'off' } }, FORMATS));
    expect(demo).toEqual(['formats.demo: must be a mapping']);
  });

  it('wrong types inside nested object_store.connection are each named', () => {
    const problems = problemsOf(() =>
      resolveConfig(
        {
          packages: { object_store: { enabled: 'sometimes', connection: { provider: 'GCS', path_style: 'kinda', endpoint: 'ftp:/x' } } },
        },
        FORMATS,
        STORAGES,
      ),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(
      [
        'packages.object_store.enabled',
        'packages.object_store.connection.provider',
        'packages.object_store.connection.path_style',
        'packages.object_store.connection.endpoint',
      ].sort(),
    );
  });

  it('GitLab connection keys Stowage cannot honour are refused with the reason: another provider, Signature Version 2', () => {
    const problems = problemsOf(() =>
      resolveConfig({ packages: { object_store: { connection: { provider: 'AzureRM', aws_signature_version: '2' } } } }, FORMATS, STORAGES),
    );
    expect(problems).toEqual([
      'packages.object_store.connection.provider: must be AWS: Stowage stores objects through the S3 API only (AWS S3 or an S3-compatible service)',
      'packages.object_store.connection.aws_signature_version: must be 4: Stowage signs its requests with AWS Signature Version 4 only',
    ]);
  });

  it('storage keys are validated by the plugin that owns them, under their paths; with no such plugin they are unknown', () => {
    expect(
      problemsOf(() => resolveConfig({ packages: { storage_path: '', object_store: { remote_directory: 7 } } }, FORMATS, STORAGES)),
    ).toEqual([expect.stringMatching(/^packages\.storage_path: /), expect.stringMatching(/^packages\.object_store\.remote_directory: /)]);
    const raw = { packages: { storage_path: '/x', object_store: { remote_directory: 'b', connection: {} } } };
    expect(problemsOf(() => resolveConfig(raw, FORMATS, [localStorage]))).toEqual([
      'packages.object_store.remote_directory: unknown key',
      'packages.object_store.connection: unknown key',
    ]);
    expect(raw.packages.storage_path).toBe('/x'); // the caller's raw config is left as it was
  });

  it('accepts a complete valid GitLab-style packages section', () => {
    const c = resolveConfig(
      {
        packages: {
          enabled: true,
          storage_path: '/var/stowage/pkgs',
          object_store: {
            enabled: true,
            remote_directory: 'pkgs',
            direct_upload: false,
            background_upload: false,
            proxy_download: true,
            connection: {
              provider: 'AWS',
              region: 'eu-central-1',
              aws_access_key_id: 'AKIA',
              aws_secret_access_key: 'secret',
              use_iam_profile: false,
              endpoint: 'http://minio:9000',
              host: 'minio',
              path_style: true,
              aws_signature_version: 4,
            },
          },
        },
      },
      FORMATS,
      STORAGES,
    );
    expect(objectStore(c).connection.endpoint).toBe('http://minio:9000');
    expect(c.packages.object_store.proxy_download).toBe(true);
    expect(localStoragePath(c)).toBe('/var/stowage/pkgs');
  });
});

describe('environment overrides', () => {
  it('maps __ to nesting and parses inline lists', () => {
    expect(
      envOverrides({
        STOWAGE_PACKAGES__OBJECT_STORE__ENABLED: 'true',
        STOWAGE_SERVER__PORT: '9000',
        STOWAGE_PLUGINS: '["x", "@acme/y"]',
        STOWAGE_CONFIG: '/etc/stowage.yml',
        STOWAGE_ROOT_TOKEN: 'secret',
        HOME: '/root',
      }),
    ).toEqual({ packages: { object_store: { enabled: 'true' } }, server: { port: '9000' }, plugins: ['x', '@acme/y'] });
  });

  it('win over the file, leave the rest of the file in place, and are typed like the file', async () => {
    const file = await yamlFile(
      'env.yml',
      [
        'server:',
        '  port: 8000',
        '  host: 127.0.0.1',
        'packages:',
        '  object_store:',
        '    enabled: false',
        '    remote_directory: from-file',
        'plugins: [a]',
        '',
      ].join('\n'),
    );
    const fromFile = load(file);
    expect(fromFile.server.port).toBe(8000);
    expect(fromFile.packages.object_store.enabled).toBe(false);
    expect(fromFile.plugins).toEqual(['a']);

    const c = load(file, {
      STOWAGE_PACKAGES__OBJECT_STORE__ENABLED: 'true',
      STOWAGE_SERVER__PORT: '9000',
      STOWAGE_PLUGINS: '["x"]',
      STOWAGE_FORMATS__DEMO__ENABLED: 'false',
    });
    expect(c.server.port).toBe(9000);
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.server.external_url).toBe('http://localhost:9000');
    expect(c.packages.object_store.enabled).toBe(true);
    expect(objectStore(c).remote_directory).toBe('from-file');
    expect(c.plugins).toEqual(['x']);
    expect(c.formats.demo.enabled).toBe(false);
  });

  it('an invalid env value is reported under the key it overrides', () => {
    const problems = problemsOf(() =>
      load(undefined, { STOWAGE_PACKAGES__OBJECT_STORE__ENABLED: 'perhaps', STOWAGE_NOPE: '1', STOWAGE_FORMATS__DEMO__MODE: 'x' }),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['formats.demo.mode', 'nope', 'packages.object_store.enabled']);
  });

  it('explicit overrides (the CLI) come last', () => {
    const raw = readRawConfig({ env: { STOWAGE_SERVER__PORT: '9000' }, overrides: { server: { port: 1234 } } });
    expect(resolveConfig(raw).server.port).toBe(1234);
  });
});

describe('the config file', () => {
  it('is found through STOWAGE_CONFIG', async () => {
    const file = await yamlFile('via-env.yml', 'server:\n  port: 7001\n');
    expect(load(undefined, { STOWAGE_CONFIG: file }).server.port).toBe(7001);
    // an explicit file wins over STOWAGE_CONFIG
    const other = await yamlFile('explicit.yml', 'server:\n  port: 7002\n');
    expect(load(other, { STOWAGE_CONFIG: file }).server.port).toBe(7002);
  });

  it('an empty file is the defaults', async () => {
    const file = await yamlFile('empty.yml', '');
    expect(load(file).server.port).toBe(8080);
  });

  it('invalid YAML names the file and the problem', async () => {
    const file = await yamlFile('broken.yml', 'server:\n  port: [8080\n');
    const problems = problemsOf(() => load(file));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}: not valid YAML: .+`));
  });

  it('YAML that is not a mapping is refused', async () => {
    const file = await yamlFile('list.yml', '- a\n- b\n');
    expect(problemsOf(() => load(file))).toEqual([`${file}: must hold a mapping of settings`]);
  });

  it('a missing file named by STOWAGE_CONFIG is an error, not silently the defaults', () => {
    const missing = join(dir, 'nope.yml');
    expect(problemsOf(() => load(undefined, { STOWAGE_CONFIG: missing }))).toEqual([`${missing}: cannot be read (ENOENT)`]);
  });

  it('an unreadable file is reported (a directory; and a mode-000 file unless running as root)', async () => {
    expect(problemsOf(() => load(dir))).toEqual([`${dir}: cannot be read (EISDIR)`]);
    if (process.getuid?.() === 0) return; // root reads mode-000 files
    const file = await yamlFile('secret.yml', 'server:\n  port: 1\n');
    await chmod(file, 0o000);
    try {
      expect(problemsOf(() => load(file))).toEqual([`${file}: cannot be read (EACCES)`]);
    } finally {
      await chmod(file, 0o600);
    }
  });
});
