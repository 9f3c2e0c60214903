import { join } from 'node:path';

import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';

import type { StowageConfig } from '../config';
import { type EmbeddedDatabase, openEmbeddedDatabase } from './embedded-database';
import { pgliteNodePostgresShim } from './pglite-driver';
import { runMigrations } from './run-migrations';
import { CORE_ENTITIES, CORE_MIGRATIONS, type SchemaClass } from './schema';

export interface DatabaseOptions {
  config: StowageConfig;
  /** Entities and migrations contributed by plugins. */
  entities?: SchemaClass[];
  migrations?: SchemaClass[];
  /** An already open embedded database (tests pass one made from a snapshot). */
  embedded?: EmbeddedDatabase;
}

export const DATABASE_KIND = Symbol('DATABASE_KIND');
export type DatabaseKind = 'postgres' | 'embedded';

export async function buildDataSourceOptions(opts: DatabaseOptions): Promise<DataSourceOptions> {
  const common = {
    type: 'postgres' as const,
    entities: [...CORE_ENTITIES, ...(opts.entities ?? [])],
    migrations: [...CORE_MIGRATIONS, ...(opts.migrations ?? [])],
    migrationsRun: false,
    synchronize: false,
    installExtensions: false,
    applicationName: 'stowage',
    logging: false,
  };
  const url = opts.config.database.url;
  if (url) return { ...common, url, poolSize: opts.config.database.pool_size };
  const db =
    opts.embedded ??
    (await openEmbeddedDatabase({
      dataDir: join(opts.config.data_dir, 'db'),
      sharedBuffers: opts.config.database.embedded_shared_buffers,
    }));
  return { ...common, driver: pgliteNodePostgresShim(db, { closeOnEnd: !opts.embedded }) } as DataSourceOptions;
}

/** Opens the database and brings its schema up to date before anything else uses it. */
export async function openDataSource(opts: DatabaseOptions): Promise<DataSource> {
  const ds = new DataSource(await buildDataSourceOptions(opts));
  await ds.initialize();
  try {
    await runMigrations(ds, { shared: Boolean(opts.config.database.url) });
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw err;
  }
  return ds;
}

@Module({})
export class DatabaseModule {
  static forRoot(opts: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ retryAttempts: 1 }),
          dataSourceFactory: () => openDataSource(opts),
        }),
      ],
      providers: [{ provide: DATABASE_KIND, useValue: opts.config.database.url ? 'postgres' : 'embedded' }],
      exports: [TypeOrmModule, DATABASE_KIND],
    };
  }
}
