import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  type BlobStoreKind,
  createStowageApp,
  type EmbeddedDatabase,
  FileStorage,
  type FormatPlugin,
  isListable,
  JobQueue,
  type RawConfig,
  resolveConfig,
  type StoragePlugin,
  type StowageAppOptions,
  type StowageConfig,
} from '@stowage/core';
import { localStorage, localStoragePath } from '@stowage/storage-local';

import { openTestEmbeddedDatabase } from './embedded-snapshot';
import { filesUnder } from './files';
import { startTestObjectStore, type TestObjectStore } from './object-store';
import { clearRedisPrefix, createTestDatabase, TEST_REDIS_URL, type TestMode, uniqueName } from './services';
import { type InjectResult, TestApi } from './test-api';

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
  /**
   * STOWAGE_ROOT_TOKEN for the server: a fresh random one by default; `null` starts without
   * one, so the server generates root's token and hands it to `announce` (`rootToken` and
   * `api.root()` then have no token: read it from the announcement).
   */
  rootToken?: string | null;
  /** Receives what RootBootstrap announces (a generated root token); dropped by default. */
  announce?: (message: string) => void;
  /** The pino logger the server logs through (e.g. one writing to a captured stream). */
  logger?: StowageAppOptions['logger'];
}

export interface TestServer {
  app: NestFastifyApplication;
  config: StowageConfig;
  mode: TestMode;
  /** http://127.0.0.1:PORT when listening (also the server's external_url). */
  url: string;
  dataDir: string;
  /** The local store's directory (`packages.storage_path`, `<data_dir>/packages` unless the test sets it). */
  storagePath: string;
  /** The s3rver this server stores its blobs in (STOWAGE_TEST_OBJECT_STORE=direct only). */
  objectStore?: TestObjectStore;
  api: TestApi;
  rootToken: string;
  /** Waits for background jobs this server queued. */
  drainJobs(): Promise<void>;
  /**
   * Stops the app and starts a new one on the same database, data directory and config (a
   * server restart); `app` and `api` then refer to the new one. Options override the first
   * start's rootToken, announce and logger; a rootToken given becomes `rootToken` and `api`'s
   * token from then on (the bootstrap revokes the one the earlier value made).
   */
  restart(opts?: Pick<TestServerOptions, 'rootToken' | 'announce' | 'logger'>): Promise<void>;
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

/**
 * `STOWAGE_TEST_OBJECT_STORE=direct`: every test server stores its uploads in object storage
 * (an s3rver of its own; direct_upload, no proxy_download, so downloads redirect to presigned
 * URLs) unless the test configures `packages.object_store` itself.
 */
export function objectStoreMode(): boolean {
  const v = process.env.STOWAGE_TEST_OBJECT_STORE ?? '';
  if (v === '' || v === 'off') return false;
  if (v === 'direct') return true;
  throw new Error(`STOWAGE_TEST_OBJECT_STORE=${v}: only "direct" is supported`);
}

/**
 * The storage keys (`ab/cd/<uuid>`) of every blob stored, in the local directory (temp files
 * excluded) and in object storage when configured: "nothing stored" checks that hold in both
 * test runs (local disk and STOWAGE_TEST_OBJECT_STORE).
 */
export async function storedBlobKeys(server: TestServer): Promise<string[]> {
  const storage = server.app.get(FileStorage);
  const keys: string[] = [];
  for (const kind of ['local', 'object'] as BlobStoreKind[]) {
    const store = storage.storeIfConfigured(kind);
    if (!store) continue;
    if (isListable(store)) {
      for await (const o of store.list()) keys.push(o.key);
    } else if (kind === 'local') {
      const root = server.storagePath;
      keys.push(...(await filesUnder(root)).map((p) => relative(root, p)).filter((p) => !p.startsWith('tmp/')));
    }
  }
  return keys.sort();
}

/**
 * The bytes an injected download answered with, following its redirect to a presigned
 * object-storage URL (STOWAGE_TEST_OBJECT_STORE) as a client would.
 */
export async function downloadedBytes(res: InjectResult): Promise<Buffer> {
  const location = res.headers.location;
  if (res.status !== 302 || typeof location !== 'string' || !/^https?:/.test(location)) return res.rawPayload;
  const followed = await fetch(location);
  if (!followed.ok) throw new Error(`GET ${location} → ${followed.status} ${await followed.text()}`);
  return Buffer.from(await followed.arrayBuffer());
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

  const storages = [localStorage, ...(opts.storages ?? [])];
  let objectStore: TestObjectStore | undefined;
  // A test that configures object storage itself (`enabled` or a `connection`) keeps it; other
  // object_store settings it gives (proxy_download: true) apply over the s3rver defaults.
  const given = (((opts.config?.packages ?? {}) as RawConfig).object_store ?? {}) as RawConfig;
  const ownObjectStore = 'enabled' in given || 'connection' in given;
  if (objectStoreMode() && !ownObjectStore) {
    try {
      objectStore = await startTestObjectStore();
    } catch (err) {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      throw err;
    }
    const s3 = objectStore;
    cleanups.push(() => s3.close());
    raw.packages = {
      object_store: {
        enabled: true,
        direct_upload: true,
        proxy_download: false,
        remote_directory: s3.bucket,
        connection: s3.connection,
      },
    };
    if (!storages.some((p) => p.name === s3.plugin.name)) storages.push(s3.plugin);
  }

  const formats = opts.formats ?? [];
  const config = resolveConfig(deepMerge(raw, opts.config ?? {}), new Map(formats.map((f) => [f.name, f.config])), storages);
  const rootToken = opts.rootToken === null ? '' : (opts.rootToken ?? `stwpat-root-${uniqueName('t')}`);
  const boot = (o: Pick<TestServerOptions, 'rootToken' | 'announce' | 'logger'>) =>
    createStowageApp({
      config,
      formats,
      storages,
      processJobs: true,
      rootBootstrap: { rootToken: o.rootToken ?? undefined, announce: o.announce ?? (() => undefined) },
      embedded,
      logger: o.logger,
    });
  let app: NestFastifyApplication;
  try {
    app = await boot({ rootToken: rootToken || null, announce: opts.announce, logger: opts.logger });
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

  const server: TestServer = {
    app,
    config,
    mode,
    url,
    dataDir,
    storagePath: localStoragePath(config),
    objectStore,
    api: new TestApi(app, rootToken),
    rootToken,
    drainJobs: () => server.app.get(JobQueue).drain(),
    restart: async (o = {}) => {
      await server.app.close();
      // A new STOWAGE_ROOT_TOKEN stays the configured one for later restarts and for `api`.
      if (o.rootToken) server.rootToken = o.rootToken;
      server.app = await boot({
        rootToken: o.rootToken !== undefined ? o.rootToken : server.rootToken || null,
        announce: o.announce ?? opts.announce,
        logger: o.logger ?? opts.logger,
      });
      if (opts.listen ?? true) {
        await server.app.listen({ port: 0, host: '127.0.0.1' });
        server.url = `http://127.0.0.1:${(server.app.getHttpServer().address() as { port: number }).port}`;
        config.server.external_url = server.url;
      }
      server.api = new TestApi(server.app, server.rootToken);
    },
    close: async () => {
      await server.app.close();
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
  return server;
}
