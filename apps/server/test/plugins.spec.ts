import 'reflect-metadata';

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { isFormatPlugin } from '@stowage/core';
import { startTestServer, type TestServer } from '@stowage/testkit';

import { BUILTIN_FORMATS, loadPlugins, PluginLoadError } from '../src/plugins';

// Third-party plugins are plain CommonJS packages in the operator's node_modules. They get
// @stowage/core and @nestjs/common from the server (the same module instances it uses).
const CORE = require.resolve('@stowage/core');
const NEST_COMMON = require.resolve('@nestjs/common');

/** A format plugin with one controller: GET /api/v4/<name>/ping/:word. */
function formatPluginSource(formatName: string): string {
  return `
const core = require(${JSON.stringify(CORE)});
const common = require(${JSON.stringify(NEST_COMMON)});
const OPTIONS = 'ping-options';

class PingController {
  constructor(options) { this.options = options; }
  ping(word) { return { format: ${JSON.stringify(formatName)}, word, enabled: this.options.config.enabled }; }
}
common.Inject(OPTIONS)(PingController, undefined, 0);
common.Param('word')(PingController.prototype, 'ping', 0);
common.Get('ping/:word')(PingController.prototype, 'ping', Object.getOwnPropertyDescriptor(PingController.prototype, 'ping'));
common.Controller('api/v4/${formatName}')(PingController);

class PingModule {
  static register(options) {
    return { module: PingModule, controllers: [PingController], providers: [{ provide: OPTIONS, useValue: options }] };
  }
}
exports.plugin = core.defineFormatPlugin({ name: ${JSON.stringify(formatName)}, module: PingModule });
exports.notAPlugin = { name: 'ignored' };
`;
}

let cwd: string;

async function writeModule(name: string, source: string): Promise<void> {
  const dir = join(cwd, 'node_modules', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
  await writeFile(join(dir, 'index.js'), source);
}

function loadError(names: string[]): PluginLoadError {
  try {
    loadPlugins(names, cwd);
  } catch (err) {
    expect(err).toBeInstanceOf(PluginLoadError);
    return err as PluginLoadError;
  }
  throw new Error(`loadPlugins(${names.join(', ')}) was expected to fail`);
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'stowage-plugins-'));
  await writeModule('stowage-format-ping', formatPluginSource('ping'));
  await writeModule('@acme/stowage-pong', formatPluginSource('pong'));
  await writeModule('stowage-format-ping-again', formatPluginSource('ping'));
  await writeModule('stowage-format-fake-generic', formatPluginSource('generic'));
  await writeModule('stowage-empty', 'module.exports = { helper() {}, version: 1 };\n');
  await writeModule('stowage-broken', "throw new Error('needs the FOO_HOME variable');\n");
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

describe('loadPlugins', () => {
  it('without plugins: the built-in formats and stores only', () => {
    const installed = loadPlugins([], cwd);
    expect(installed.formats.map((f) => f.name)).toEqual(BUILTIN_FORMATS.map((f) => f.name));
    expect(installed.formats.map((f) => f.name)).toContain('generic');
    expect(installed.storages.map((s) => s.kind)).toContain('local');
  });

  it('loads format plugins by module name (plain and scoped) from the working directory', () => {
    const installed = loadPlugins(['stowage-format-ping', '@acme/stowage-pong'], cwd);
    expect(installed.formats.map((f) => f.name)).toEqual([...BUILTIN_FORMATS.map((f) => f.name), 'ping', 'pong']);
    expect(installed.formats.every(isFormatPlugin)).toBe(true);
  });

  it('a module that does not exist stops start-up, naming the module', () => {
    const err = loadError(['stowage-format-ping', 'stowage-format-nowhere']);
    expect(err.message).toMatch(/^plugins: stowage-format-nowhere cannot be loaded \(Cannot find module 'stowage-format-nowhere'/);
  });

  it('a module that exports no plugin stops start-up, naming the module', () => {
    expect(loadError(['stowage-empty']).message).toBe(
      'plugins: stowage-empty exports no format or storage plugin (use defineFormatPlugin or defineStoragePlugin)',
    );
  });

  it('a module that throws while loading reports its own error, not "cannot find"', () => {
    const err = loadError(['stowage-broken']);
    expect(err.message).toMatch(/^plugins: stowage-broken cannot be loaded/);
    expect(err.message).toContain('needs the FOO_HOME variable');
  });

  it('a duplicate format name stops start-up, naming the module and the format', () => {
    expect(loadError(['stowage-format-fake-generic']).message).toBe(
      'plugins: stowage-format-fake-generic defines format generic, which is already installed',
    );
    expect(loadError(['stowage-format-ping', 'stowage-format-ping-again']).message).toBe(
      'plugins: stowage-format-ping-again defines format ping, which is already installed',
    );
  });
});

describe('a server built with a third-party plugin', () => {
  let withAll: TestServer | undefined;
  let genericOff: TestServer | undefined;

  beforeAll(async () => {
    const { formats } = loadPlugins(['stowage-format-ping'], cwd);
    [withAll, genericOff] = await Promise.all([
      startTestServer({ formats, mode: 'postgres', listen: false }),
      startTestServer({ formats, mode: 'postgres', listen: false, config: { formats: { generic: { enabled: false } } } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([withAll?.close(), genericOff?.close()]);
  });

  it("serves the plugin's route with its config section", async () => {
    const res = await withAll!.api.inject({ url: '/api/v4/ping/ping/hello' });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ format: 'ping', word: 'hello', enabled: true });
  });

  it('generic works when enabled; disabled, all its routes answer 404 while other routes work', async () => {
    for (const server of [withAll!, genericOff!]) {
      const project = await server.api.createProject('plugins-demo');
      const url = `/api/v4/projects/${project.id}/packages/generic/tool/1.0.0/tool.bin`;
      const put = await server.api.inject({
        method: 'PUT',
        url,
        payload: Buffer.from('bytes'),
        token: server.rootToken,
        headers: { 'content-type': 'application/octet-stream' },
      });
      const get = await server.api.inject({ url, token: server.rootToken });
      const user = await server.api.inject({ url: '/api/v4/user', token: server.rootToken });
      const ping = await server.api.inject({ url: '/api/v4/ping/ping/x' });
      const listed = await server.api.inject({ url: `/api/v4/projects/${project.id}/packages`, token: server.rootToken });
      expect(user.status).toBe(200);
      expect(user.json().username).toBe('root');
      expect(ping.status).toBe(200);
      expect(listed.status).toBe(200);
      if (server === withAll) {
        expect(put.status).toBe(201);
        expect(get.status).toBe(200);
        expect(get.body).toBe('bytes');
        expect(listed.json()).toHaveLength(1);
      } else {
        expect(put.status).toBe(404);
        expect(get.status).toBe(404);
        expect(put.json()).toEqual({ message: '404 Not Found' });
        expect(listed.json()).toEqual([]);
      }
    }
  });
});
