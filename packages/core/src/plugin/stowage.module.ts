import { type DynamicModule, Global, Module } from '@nestjs/common';

import { GroupsController } from '../admin/groups.controller';
import { InstanceController } from '../admin/instance.controller';
import { Memberships } from '../admin/memberships';
import { ProjectsController } from '../admin/projects.controller';
import { ResourceAccess } from '../admin/resource-access';
import { ROOT_BOOTSTRAP_OPTIONS, RootBootstrap, type RootBootstrapOptions } from '../admin/root-bootstrap';
import { UsersController } from '../admin/users.controller';
import { AuditEventsController } from '../audit/audit-events.controller';
import { AuditLog } from '../audit/audit-log';
import { AccessService } from '../auth/access.service';
import { ApiAccessGuard } from '../auth/api-access.guard';
import { AuthService } from '../auth/auth.service';
import { MembersService } from '../auth/members.service';
import { PackageAccessGuard } from '../auth/package-access.guard';
import { TokensService } from '../auth/tokens.service';
import { UsersService } from '../auth/users.service';
import { WebSessions } from '../auth/web-session';
import { BlobCollector } from '../blobs/blob-collector';
import { BlobMigration } from '../blobs/blob-migration';
import { BlobMover } from '../blobs/blob-mover';
import { BlobSweeper } from '../blobs/blob-sweeper';
import { StowageConfig } from '../config';
import { AccessEpoch } from '../database/access-epoch';
import { DatabaseModule } from '../database/database.module';
import type { EmbeddedDatabase } from '../database/embedded-database';
import { HealthController } from '../health/health.controller';
import { JobsModule } from '../jobs/jobs.module';
import { DocumentClock } from '../packages/document-clock';
import { DownloadLookups } from '../packages/download-lookups';
import { PackageService } from '../packages/package.service';
import { PackageSettingsService } from '../packages/package-settings.service';
import { PackagesApiController } from '../packages/packages-api.controller';
import { ProjectsService } from '../projects/projects.service';
import { PackageRateLimits } from '../rate-limits/package-rate-limits';
import { RemoteCache, RemoteDocuments, RemoteFiles, RequestForwarding, Upstreams } from '../remote';
import { RemoteCacheController } from '../remote/remote-cache.controller';
import { RenderedDocuments } from '../rendering';
import type { BlobStore, BlobStoreKind } from '../storage/blob-store';
import { BLOB_STORES, FileStorage } from '../storage/file-storage.service';
import { SessionController } from '../web/session.controller';
import { defaultWebRoot, WebAssets } from '../web/web-assets';
import { WebPagesController } from '../web/web-pages.controller';
import type { FormatPlugin } from './format-plugin';
import { FormatRegistry } from './format-registry';
import { createBlobStore, type StoragePlugin } from './storage-plugin';

export interface StowageModuleOptions {
  config: StowageConfig;
  /** Every installed format plugin; those enabled in config get their routes. */
  formats: readonly FormatPlugin[];
  storages: readonly StoragePlugin[];
  /** Whether this process consumes background jobs. */
  processJobs: boolean;
  /** The built web UI (`@stowage/web`'s dist) when not the installed one. */
  webRoot?: string;
  /** Whether to serve HTTP controllers (false for `stowage worker`). */
  http: boolean;
  rootBootstrap: RootBootstrapOptions;
  /** An open embedded database to use instead of opening data_dir/db (tests). */
  embedded?: EmbeddedDatabase;
}

/** The storage plugins the config needs: always a local store; an object store when enabled. */
async function createBlobStores(config: StowageConfig, storages: readonly StoragePlugin[]): Promise<Map<BlobStoreKind, BlobStore>> {
  const needed: BlobStoreKind[] = config.packages.object_store.enabled ? ['local', 'object'] : ['local'];
  const stores = new Map<BlobStoreKind, BlobStore>();
  for (const kind of needed) {
    const plugin = storages.find((s) => s.kind === kind);
    if (!plugin) throw new Error(`no storage plugin for ${kind} storage is installed`);
    stores.set(kind, await createBlobStore(plugin, config));
  }
  return stores;
}

export function enabledFormats(config: StowageConfig, formats: readonly FormatPlugin[]): FormatPlugin[] {
  return formats.filter((f) => config.formats[f.name]?.enabled !== false);
}

/**
 * The root module: core services for every plugin (global), the core REST API, and one
 * registered module per enabled format. A disabled format's module is not imported, so
 * its routes do not exist and answer 404.
 */
@Global()
@Module({})
export class StowageModule {
  static forRoot(opts: StowageModuleOptions): DynamicModule {
    const formats = enabledFormats(opts.config, opts.formats);
    const coreServices = [
      AccessEpoch,
      AuthService,
      AccessService,
      UsersService,
      MembersService,
      TokensService,
      ProjectsService,
      PackageService,
      PackageSettingsService,
      DocumentClock,
      FileStorage,
      RequestForwarding,
      Upstreams,
      RemoteDocuments,
      RemoteFiles,
      RemoteCache,
      PackageAccessGuard,
      ApiAccessGuard,
      AuditLog,
      PackageRateLimits,
    ];
    return {
      module: StowageModule,
      global: true,
      imports: [
        DatabaseModule.forRoot({
          config: opts.config,
          entities: formats.flatMap((f) => f.entities),
          migrations: formats.flatMap((f) => f.migrations),
          embedded: opts.embedded,
        }),
        JobsModule.forRoot(opts.config, opts.processJobs),
        ...formats.map((f) => f.module.register({ config: opts.config.formats[f.name] })),
      ],
      controllers: opts.http
        ? [
            HealthController,
            UsersController,
            GroupsController,
            ProjectsController,
            PackagesApiController,
            RemoteCacheController,
            InstanceController,
            AuditEventsController,
            SessionController,
            // Last: its catch-all takes only the GETs no other route did.
            WebPagesController,
          ]
        : [],
      providers: [
        { provide: StowageConfig, useValue: opts.config },
        { provide: FormatRegistry, useValue: new FormatRegistry(formats) },
        { provide: BLOB_STORES, useFactory: () => createBlobStores(opts.config, opts.storages) },
        { provide: ROOT_BOOTSTRAP_OPTIONS, useValue: opts.rootBootstrap },
        { provide: RenderedDocuments, useValue: new RenderedDocuments({ maxBytes: opts.config.packages.rendered_cache_size }) },
        { provide: DownloadLookups, useValue: new DownloadLookups({ enabled: !opts.config.database.url }) },
        { provide: WebAssets, useFactory: () => new WebAssets(opts.http ? (opts.webRoot ?? defaultWebRoot()) : null) },
        WebSessions,
        ...coreServices,
        ResourceAccess,
        Memberships,
        RootBootstrap,
        BlobCollector,
        BlobMover,
        BlobMigration,
        BlobSweeper,
      ],
      exports: [
        StowageConfig,
        FormatRegistry,
        BLOB_STORES,
        RenderedDocuments,
        DownloadLookups,
        ...coreServices,
        BlobCollector,
        BlobMover,
        BlobMigration,
        BlobSweeper,
      ],
    };
  }
}
