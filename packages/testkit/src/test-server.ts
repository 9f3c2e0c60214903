import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createStowageApp,
  type EmbeddedDatabase,
  type FormatPlugin,
  JobQueue,
  type RawConfig,
  resolveConfig,
  type StoragePlugin,
  type StowageConfig,
} from '@stowage/core';
import { localStorage } from '@stowage/storage-local';
import { openTestEmbeddedDatabase } from './embedded-snapshot';
import { clearRedisPrefix, createTestDatabase, TEST_REDIS_URL, type TestMode, uniqueName } from './services';
import { TestApi } from './test-api';

export interface TestServerOptions {
  /** Format plugins installed in the server (each enabled unless the config says otherwise). */
  formats?: FormatPlugin[];
  /** Extra storage plugins (the local one is always there). */
  storages?: StoragePlugin[];
  /** 'postgres' (a fresh database and Redis queues) or 'embedded' (PGlite, in-process jobs). */
  mode?: TestMode;
  /** Raw config merged over the test defaults, as it would appear in stowage.yml. */
  config?: RawConfig;
  /** Listen on a random port (real clients need it); otherwise only `api.inject` works. */
  listen?: boolean;
}

export interface TestServer {
  app: NestFastifyApplication;
  config: StowageConfig;
  mode: TestMode;
  /** http://127.0.0.1:PORT when listening (also the server's external_url). */
  url: string;
  dataDir: string;
  api: TestApi;
  rootToken: string;
  /** Waits for background jobs this server queued. */
  drainJobs(): Promise<void>;
  close(): Promise<void>;
}

function deepMerge(a: RawConfig, b: RawConfig): RawConfig {
  const out: RawConfig = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const isObj = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as RawConfig, v as RawConfig) : v;
  }
  return out;
}

/** A real Stowage server for one test file: its own database, queues and storage directory. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const mode = opts.mode ?? 'postgres';
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-test-'));
  const cleanups: (() => Promise<void>)[] = [() => rm(dataDir, { recursive: true, force: true })];
  let embedded: EmbeddedDatabase | undefined;
  const raw: RawConfig = { data_dir: dataDir, log: { level: process.env.STOWAGE_TEST_LOG ?? 'silent' }, server: { port: 0 } };

  if (mode === 'postgres') {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const prefix = uniqueName('stowage-test');
    cleanups.push(() => clearRedisPrefix(prefix));
    Object.assign(raw, { database: { url: db.url, pool_size: 5 }, redis: { url: TEST_REDIS_URL, prefix } });
  } else {
    embedded = await openTestEmbeddedDatabase();
    const db = embedded;
    cleanups.push(() => db.close());
  }

  const formats = opts.formats ?? [];
  const config = resolveConfig(deepMerge(raw, opts.config ?? {}), new Map(formats.map((f) => [f.name, f.config])));
  const rootToken = `stwpat-root-${uniqueName('t')}`;
  let app: NestFastifyApplication;
  try {
    app = await createStowageApp({
      config,
      formats,
      storages: [localStorage, ...(opts.storages ?? [])],
      processJobs: true,
      rootBootstrap: { rootToken, announce: () => undefined },
      embedded,
    });
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    throw err;
  }

  let url = '';
  if (opts.listen ?? true) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
    config.server.external_url = url;
  }

  const jobs = app.get(JobQueue);
  return {
    app,
    config,
    mode,
    url,
    dataDir,
    api: new TestApi(app, rootToken),
    rootToken,
    drainJobs: () => jobs.drain(),
    close: async () => {
      await app.close();
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
}
