import { type DynamicModule, Global, Module } from '@nestjs/common';

import { GroupAccessTokensController, ProjectAccessTokensController } from '../admin/access-tokens.controller';
import { DeployTokensController } from '../admin/deploy-tokens.controller';
import { GroupAdminController } from '../admin/group-admin.controller';
import { GroupStore } from '../admin/group-store';
import { GroupsController } from '../admin/groups.controller';
import { InstanceController } from '../admin/instance.controller';
import { MemberDirectory } from '../admin/member-directory';
import { MembersController } from '../admin/members.controller';
import { Memberships } from '../admin/memberships';
import { PersonalAccessTokensController } from '../admin/personal-access-tokens.controller';
import { ProjectsController } from '../admin/projects.controller';
import { ResourceAccess } from '../admin/resource-access';
import { ResourceAccessTokens } from '../admin/resource-access-tokens';
import { ResourceRemoval } from '../admin/resource-removal';
import { ROOT_BOOTSTRAP_OPTIONS, RootBootstrap, type RootBootstrapOptions } from '../admin/root-bootstrap';
import { UserStore } from '../admin/user-store';
import { UsersController } from '../admin/users.controller';
import { UsersAdminController } from '../admin/users-admin.controller';
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
import { CleanupGuards } from '../cleanup/cleanup-guards';
import { CleanupPlanner } from '../cleanup/cleanup-planner';
import { CleanupPolicies } from '../cleanup/cleanup-policies.service';
import { CleanupPolicyController } from '../cleanup/cleanup-policy.controller';
import { CleanupRunner } from '../cleanup/cleanup-runner';
import { CleanupSchedule } from '../cleanup/cleanup-schedule';
import { StowageConfig } from '../config';
import { AccessEpoch } from '../database/access-epoch';
import { DatabaseModule } from '../database/database.module';
import type { EmbeddedDatabase } from '../database/embedded-database';
import { HealthController } from '../health/health.controller';
import { JobsModule } from '../jobs/jobs.module';
import { tagFormatRoutes } from '../metrics/format-routes';
import { instrumentBlobStore } from '../metrics/instrumented-blob-store';
import { MetricsController } from '../metrics/metrics.controller';
import { StateGauges } from '../metrics/state-gauges';
import { StowageMetrics } from '../metrics/stowage-metrics';
import { DocumentClock } from '../packages/document-clock';
import { DownloadLookups } from '../packages/download-lookups';
import { PackageService } from '../packages/package.service';
import { PackageSettingsService } from '../packages/package-settings.service';
import { PackagesApiController } from '../packages/packages-api.controller';
import { PackageProtection } from '../packages/protection/package-protection';
import { ProtectionRulesController } from '../packages/protection/protection-rules.controller';
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
  /** This process's metrics (createStowageApp makes them first, for its HTTP hooks). */
  metrics?: StowageMetrics;
}

/** The storage plugins the config needs: always a local store; an object store when enabled. Each is measured. */
async function createBlobStores(
  config: StowageConfig,
  storages: readonly StoragePlugin[],
  metrics: StowageMetrics,
): Promise<Map<BlobStoreKind, BlobStore>> {
  const needed: BlobStoreKind[] = config.packages.object_store.enabled ? ['local', 'object'] : ['local'];
  const stores = new Map<BlobStoreKind, BlobStore>();
  for (const kind of needed) {
    const plugin = storages.find((s) => s.kind === kind);
    if (!plugin) throw new Error(`no storage plugin for ${kind} storage is installed`);
    stores.set(kind, instrumentBlobStore(await createBlobStore(plugin, config), metrics));
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
    const metrics = opts.metrics ?? new StowageMetrics();
    const formatModules = formats.map((f) => {
      const module = f.module.register({ config: opts.config.formats[f.name] });
      if (opts.http) tagFormatRoutes(f.name, module);
      return module;
    });
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
      PackageProtection,
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
    const cleanupServices = [CleanupPolicies, CleanupGuards, CleanupPlanner, CleanupRunner];
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
        JobsModule.forRoot(opts.config, opts.processJobs, metrics),
        ...formatModules,
      ],
      controllers: opts.http
        ? [
            HealthController,
            MetricsController,
            UsersController,
            PersonalAccessTokensController,
            ProjectAccessTokensController,
            GroupAccessTokensController,
            DeployTokensController,
            GroupsController,
            GroupAdminController,
            ProjectsController,
            UsersAdminController,
            MembersController,
            PackagesApiController,
            CleanupPolicyController,
            ProtectionRulesController,
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
        { provide: StowageMetrics, useValue: metrics },
        { provide: BLOB_STORES, useFactory: () => createBlobStores(opts.config, opts.storages, metrics) },
        { provide: ROOT_BOOTSTRAP_OPTIONS, useValue: opts.rootBootstrap },
        { provide: RenderedDocuments, useValue: new RenderedDocuments({ maxBytes: opts.config.packages.rendered_cache_size }) },
        { provide: DownloadLookups, useValue: new DownloadLookups({ enabled: !opts.config.database.url }) },
        { provide: WebAssets, useFactory: () => new WebAssets(opts.http ? (opts.webRoot ?? defaultWebRoot()) : null) },
        WebSessions,
        ...coreServices,
        ResourceAccess,
        Memberships,
        ResourceRemoval,
        GroupStore,
        UserStore,
        MemberDirectory,
        ResourceAccessTokens,
        RootBootstrap,
        BlobCollector,
        BlobMover,
        BlobMigration,
        BlobSweeper,
        ...cleanupServices,
        CleanupSchedule,
        StateGauges,
      ],
      exports: [
        StowageMetrics,
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
        ...cleanupServices,
      ],
    };
  }
}
