// The public surface of @stowage/core: what plugins and the server may import.
import 'reflect-metadata';
export type { RootBootstrapOptions } from './admin/root-bootstrap';
export * from './archives/entry-safety';
export * from './archives/tar-reader';
export * from './archives/zip-reader';
export { type AuditAuthor, principalAuthor, SYSTEM_AUTHOR, UNAUTHENTICATED_AUTHOR } from './audit/audit-author';
export { type AuditEntityType, AuditEvent } from './audit/audit-event.entity';
export { auditEvents, roleName } from './audit/audit-events';
export {
  type AuditDetail,
  type AuditEntity,
  AuditLog,
  type AuditRecord,
  type AuditTarget,
  entityOf,
  type PreparedAudit,
} from './audit/audit-log';
export { AccessService, type ProjectPermissions, readableProjects, type SqlCondition } from './auth/access.service';
export { AccessLevel, MEMBER_ACCESS_LEVELS } from './auth/access-level';
export { ApiAccess } from './auth/api-access.guard';
export { AuthService } from './auth/auth.service';
export { assertMayList } from './auth/listing';
export { MembersService } from './auth/members.service';
export {
  AnyBasicUsername,
  PACKAGE_REGISTRY_CHALLENGE,
  PackageAccess,
  type PackageAccessOptions,
  RouteScope,
  unauthorizedWithChallenge,
} from './auth/package-access.guard';
export {
  CurrentScope,
  narrowInstance,
  type PackageScope,
  packageScope,
  scopeKey,
  scopeMiss,
  type ScopeOptions,
} from './auth/package-scope';
export type { Authentication, Principal } from './auth/principal';
export { principalUser } from './auth/principal';
export { CurrentGroup, CurrentPrincipal, CurrentProject, requestContext, RouteProject } from './auth/request-context';
export type { PackageAction } from './auth/scopes';
export type { Token, TokenKind } from './auth/token.entity';
export { TokensService } from './auth/tokens.service';
export type { User } from './auth/user.entity';
export { UsersService } from './auth/users.service';
export { Blob } from './blobs/blob.entity';
export { BlobCollector, COLLECT_BLOBS_JOB, SWEEP_LEFTOVERS_JOB } from './blobs/blob-collector';
export {
  BlobMigration,
  type MigrateOptions,
  type MigrationProgress,
  type MigrationSummary,
  type VerifyOptions,
  type VerifyProblem,
  type VerifySummary,
} from './blobs/blob-migration';
export { MOVE_BLOB_JOB, type MoveBlobJob } from './blobs/blob-move-job';
export { BlobIntegrityError, BlobMover, type BlobRow, digestStored, type MoveResult } from './blobs/blob-mover';
export { BlobSweeper, type LeftoverReport, type Leftovers, type StoreLeftovers, type Tally } from './blobs/blob-sweeper';
export { type CleanupCandidate, CleanupGuards } from './cleanup/cleanup-guards';
export { planJson } from './cleanup/cleanup-json';
export { CLEANABLE_STATUSES, type CleanupPlan, CleanupPlanner } from './cleanup/cleanup-planner';
export { CleanupPolicies } from './cleanup/cleanup-policies.service';
export { type CleanupPolicy, KEEP_N_DUPLICATED_PACKAGE_FILES } from './cleanup/cleanup-policy';
export { CleanupRunner } from './cleanup/cleanup-runner';
export { CLEANUP_POLICIES_JOB } from './cleanup/cleanup-schedule';
export * from './config';
export * from './database';
export { ApiParams } from './http/api-params';
export { BodyLimit } from './http/body-limit.decorator';
export { HttpErrorFilter, sendHttpError, toHttpError } from './http/error.filter';
export { gitlabMessage, HttpError, httpErrors, reasonPhrase } from './http/http-error';
export { createLogger, redactUrl } from './http/logger';
export * from './http/multipart';
export { linkParams, type Page, pageParams, setPaginationHeaders } from './http/pagination';
export { currentRequest } from './http/request-scope';
export { readSmallBody, type SmallBodyOptions } from './http/small-body';
export { declaredLength, hasBody, isClientAbort, ORIGINAL_CONTENT_TYPE, requestStream, StreamBody } from './http/stream-body.decorator';
export * from './jobs';
export { listenerPort, listenForMetrics } from './metrics/metrics-listener';
export { StowageMetrics } from './metrics/stowage-metrics';
export { ownedBytes } from './owned-bytes';
export { DocumentClock } from './packages/document-clock';
export { type DuplicateCheck, type DuplicateRule } from './packages/duplicate-policy';
export { fileSizeLimit, FormatUploads, FormatUploadService } from './packages/format-uploads';
export { dependencyRows, isJsonObject, jsonString, jsonText, metadataRows, passes, unlessThrows } from './packages/overview-fields';
export { Package } from './packages/package.entity';
export { type PackageName, PackageService } from './packages/package.service';
export { PackageFile } from './packages/package-file.entity';
export { duplicateAllowed, type DuplicateSettings, PackageSettingsService } from './packages/package-settings.service';
export * from './packages/package-status';
export { PackageTag } from './packages/package-tag.entity';
export { apiPackageType, formatPackageType } from './packages/package-types';
export { type NewFile, PackageWriter, type UpsertPackage } from './packages/package-writer';
export {
  packageDeletionProtected,
  packageProtected,
  PackageProtection,
  type ProtectedAction,
} from './packages/protection/package-protection';
export { PackageProtectionRule } from './packages/protection/package-protection-rule.entity';
export { packageFileJson, packageJson } from './packages/representations';
export { createStowageApp, createStowageWorker, type StowageAppOptions } from './plugin/create-app';
export * from './plugin/format-plugin';
export { FormatRegistry } from './plugin/format-registry';
export * from './plugin/storage-plugin';
export { enabledFormats, StowageModule, type StowageModuleOptions } from './plugin/stowage.module';
export type { Namespace } from './projects/namespace.entity';
export type { Project } from './projects/project.entity';
export { type PackageCaller, type ProjectContext, withCaller } from './projects/project-context';
export { ProjectsService } from './projects/projects.service';
export type { Visibility } from './projects/visibility';
export { PackageRateLimits } from './rate-limits/package-rate-limits';
export * from './remote';
export * from './rendering';
export * from './storage/blob-store';
export { contentDisposition } from './storage/content-disposition';
export {
  BLOB_STORES,
  type BlobStores,
  type DownloadableFile,
  FileStorage,
  type SendOptions,
  type StoredBlob,
} from './storage/file-storage.service';
export { type Digests, HashingMeter, SizeLimitExceededError } from './storage/hashing-meter';
export { parseRange, type RangeRequest } from './storage/http-range';
export { newStorageKey } from './storage/storage-key';
export * from './text/json';
export { UntrustedRegex, UntrustedRegexError } from './text/untrusted-regex';
export * from './text/xml';
export { TimeSlice } from './time-slice';
