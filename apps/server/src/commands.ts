import type { INestApplicationContext } from '@nestjs/common';
import {
  ConfigError,
  createLogger,
  createStowageApp,
  createStowageWorker,
  enabledFormats,
  openDataSource,
  type RootBootstrapOptions,
} from '@stowage/core';

import type { CliArgs } from './cli-args';
import { loadConfig, type LoadedConfig } from './load-config';
import { packagesMigrate, packagesVerify } from './packages-commands';
import { PluginLoadError } from './plugins';

export const USAGE = `Usage: stowage [--config FILE] <command>

Commands:
  serve        serve HTTP (and run background jobs unless jobs.run_in_server is false)
  worker       run background jobs only
  migrate-db   bring the database schema up to date, then exit
  packages migrate [--to object|local] [--batch N]
               move every package file to object storage (or back), live
  packages verify [--sweep]
               check that every package file is in its store with the right size and sha256

The config is read from --config, STOWAGE_CONFIG or ./stowage.yml, with STOWAGE_* overrides
(STOWAGE_SERVER__PORT=9000). See docs/configuration.md.
`;

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

async function serve(loaded: LoadedConfig): Promise<void> {
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

async function worker(loaded: LoadedConfig): Promise<void> {
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
  logger.info(`stowage worker running (${config.redis.url ? 'redis' : 'in-process'} queue)`);
}

async function migrateDb(loaded: LoadedConfig): Promise<void> {
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

const COMMANDS: Record<string, (loaded: LoadedConfig, args: CliArgs) => Promise<void | number>> = {
  serve,
  worker,
  'migrate-db': migrateDb,
  'packages migrate': packagesMigrate,
  'packages verify': packagesVerify,
};

/** Runs one CLI command; returns the exit code for commands that end. */
export async function run(args: CliArgs): Promise<number | undefined> {
  const name = args.command.join(' ') || 'help';
  if (name === 'help' || args.flags.has('help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`stowage: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(args.config);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PluginLoadError) {
      process.stderr.write(`stowage: ${err.message}\n`);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const code = await command(loaded, args);
  return typeof code === 'number' ? code : name === 'migrate-db' ? 0 : undefined;
}
