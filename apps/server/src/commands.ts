import type { INestApplicationContext } from '@nestjs/common';
import {
  createLogger,
  createStowageApp,
  createStowageWorker,
  enabledFormats,
  listenForMetrics,
  openDataSource,
  type RootBootstrapOptions,
  StowageMetrics,
} from '@stowage/core';

import type { LoadedConfig } from './load-config';

function rootBootstrap(): RootBootstrapOptions {
  return {
    rootToken: process.env.STOWAGE_ROOT_TOKEN || undefined,
    // Straight to the terminal, never through the logger: log pipelines keep what they see.
    announce: (message) => process.stdout.write(message),
  };
}

/** Closes the app on SIGTERM/SIGINT, waiting for requests and jobs up to shutdown_timeout. */
function closeOnSignal(ctx: INestApplicationContext, timeoutSeconds: number, log: (m: string) => void): void {
  let closing = false;
  const close = (signal: string) => {
    if (closing) return;
    closing = true;
    log(`${signal} received, shutting down`);
    const force = setTimeout(() => {
      log(`still busy after ${timeoutSeconds}s, exiting`);
      process.exit(1);
    }, timeoutSeconds * 1000);
    force.unref();
    ctx.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => close('SIGTERM'));
  process.once('SIGINT', () => close('SIGINT'));
}

export async function serve(loaded: LoadedConfig): Promise<void> {
  const { config } = loaded;
  const logger = createLogger(config.log.level);
  const app = await createStowageApp({
    config,
    formats: loaded.formats,
    storages: loaded.storages,
    processJobs: config.jobs.run_in_server,
    rootBootstrap: rootBootstrap(),
    logger,
  });
  closeOnSignal(app, config.server.shutdown_timeout, (m) => logger.info(m));
  await app.listen({ port: config.server.port, host: config.server.host });
  const formats = enabledFormats(config, loaded.formats).map((f) => f.name);
  logger.info(
    {
      url: config.server.external_url,
      formats,
      database: config.database.url ? 'postgres' : 'embedded',
      queue: config.redis.url ? 'redis' : 'in-process',
    },
    `stowage listening on ${config.server.host}:${config.server.port}`,
  );
}

export async function worker(loaded: LoadedConfig): Promise<void> {
  const { config } = loaded;
  const logger = createLogger(config.log.level);
  const ctx = await createStowageWorker({
    config,
    formats: loaded.formats,
    storages: loaded.storages,
    processJobs: true,
    rootBootstrap: rootBootstrap(),
    logger,
  });
  closeOnSignal(ctx, config.server.shutdown_timeout, (m) => logger.info(m));
  const metricsPort = config.monitoring.worker_metrics_port;
  if (metricsPort) {
    await listenForMetrics(ctx.get(StowageMetrics), config, metricsPort);
    logger.info(`stowage worker metrics on ${config.server.host}:${metricsPort}/-/metrics`);
  }
  logger.info(`stowage worker running (${config.redis.url ? 'redis' : 'in-process'} queue)`);
}

export async function migrateDb(loaded: LoadedConfig): Promise<void> {
  const formats = enabledFormats(loaded.config, loaded.formats);
  const ds = await openDataSource({
    config: loaded.config,
    entities: formats.flatMap((f) => f.entities),
    migrations: formats.flatMap((f) => f.migrations),
  });
  const applied = await ds.query('SELECT name FROM migrations ORDER BY id');
  await ds.destroy();
  process.stdout.write(`database schema is up to date (${applied.length} migrations applied)\n`);
}
