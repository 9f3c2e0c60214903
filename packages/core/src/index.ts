// The public surface of @stowage/core: what plugins and the server may import.
import 'reflect-metadata';
export * from './config';
export * from './database';
export { AccessLevel, MEMBER_ACCESS_LEVELS } from './auth/access-level';
export { AccessService, type ProjectPermissions, type SqlCondition } from './auth/access.service';
export { AuthService } from './auth/auth.service';
export { ApiAccess } from './auth/api-access.guard';
export { PackageAccess, PACKAGE_REGISTRY_CHALLENGE, unauthorizedWithChallenge, type PackageAccessOptions } from './auth/package-access.guard';
export { CurrentGroup, CurrentPrincipal, CurrentProject, requestContext } from './auth/request-context';
export { assertMayList } from './auth/listing';
export type { Authentication, Principal } from './auth/principal';
export { principalUser } from './auth/principal';
export type { PackageAction } from './auth/scopes';
export { TokensService } from './auth/tokens.service';
export { UsersService } from './auth/users.service';
export { MembersService } from './auth/members.service';
export type { Token, TokenKind } from './auth/token.entity';
export type { User } from './auth/user.entity';
export { Blob } from './blobs/blob.entity';
export { BlobCollector, COLLECT_BLOBS_JOB, SWEEP_LEFTOVERS_JOB } from './blobs/blob-collector';
export { BlobSweeper, type LeftoverReport, type Leftovers, type StoreLeftovers, type Tally } from './blobs/blob-sweeper';
export { BlobMover, BlobIntegrityError, digestStored, type BlobRow, type MoveResult } from './blobs/blob-mover';
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
export { PackageEvents, type PackageChange } from './events/package-events';
export { HttpError, httpErrors, gitlabMessage, reasonPhrase } from './http/http-error';
export { HttpErrorFilter, sendHttpError, toHttpError } from './http/error.filter';
export { ApiParams } from './http/api-params';
export { BodyLimit } from './http/body-limit.decorator';
export { StreamBody, ORIGINAL_CONTENT_TYPE, declaredLength, hasBody, isClientAbort, requestStream } from './http/stream-body.decorator';
export * from './http/multipart';
export { readSmallBody, type SmallBodyOptions } from './http/small-body';
export * from './archives/zip-reader';
export * from './archives/tar-reader';
export * from './archives/entry-safety';
export { TimeSlice } from './time-slice';
export { ownedBytes } from './owned-bytes';
export * from './text/xml';
export * from './text/json';
export { UntrustedRegex, UntrustedRegexError } from './text/untrusted-regex';
export { createLogger, redactUrl } from './http/logger';
export { linkParams, pageParams, setPaginationHeaders, type Page } from './http/pagination';
export * from './jobs';
export { Package } from './packages/package.entity';
export { PackageFile } from './packages/package-file.entity';
export { PackageTag } from './packages/package-tag.entity';
export * from './packages/package-status';
export { PackageService, type PackageName, type PackageScope } from './packages/package.service';
export { PackageWriter, type NewFile, type UpsertPackage } from './packages/package-writer';
export { PackageSettingsService, duplicateAllowed, type DuplicateSettings } from './packages/package-settings.service';
export { DocumentClock } from './packages/document-clock';
export { packageFileJson, packageJson } from './packages/representations';
export type { Namespace } from './projects/namespace.entity';
export type { Project } from './projects/project.entity';
export type { ProjectContext } from './projects/project-context';
export { ProjectsService } from './projects/projects.service';
export type { Visibility } from './projects/visibility';
export * from './storage/blob-store';
export { contentDisposition } from './storage/content-disposition';
export { FileStorage, BLOB_STORES, type BlobStores, type StoredBlob, type DownloadableFile, type SendOptions } from './storage/file-storage.service';
export { HashingMeter, SizeLimitExceededError, type Digests } from './storage/hashing-meter';
export { parseRange, type RangeRequest } from './storage/http-range';
export { newStorageKey } from './storage/storage-key';
export * from './plugin/format-plugin';
export * from './plugin/storage-plugin';
export { FormatRegistry } from './plugin/format-registry';
export { StowageModule, enabledFormats, type StowageModuleOptions } from './plugin/stowage.module';
export { createStowageApp, createStowageWorker, type StowageAppOptions } from './plugin/create-app';
export type { RootBootstrapOptions } from './admin/root-bootstrap';
