import { AuditEvent } from '../audit/audit-event.entity';
import { Member } from '../auth/member.entity';
import { Token } from '../auth/token.entity';
import { User } from '../auth/user.entity';
import { Blob } from '../blobs/blob.entity';
import { Package } from '../packages/package.entity';
import { PackageFile } from '../packages/package-file.entity';
import { PackageSettings } from '../packages/package-settings.entity';
import { PackageTag } from '../packages/package-tag.entity';
import { PackageProtectionRule } from '../packages/protection/package-protection-rule.entity';
import { Namespace } from '../projects/namespace.entity';
import { Project } from '../projects/project.entity';
import { CoreSchema1764000000000 } from './migrations/1764000000000-core-schema';
import { TokenParent1764000000001 } from './migrations/1764000000001-token-parent';
import { DocumentClock1764000000100 } from './migrations/1764000000100-document-clock';
import { RootTokenEnv1764000000200 } from './migrations/1764000000200-root-token-env';
import { RemoteRegistries1764000000300 } from './migrations/1764000000300-remote-registries';
import { AccessNotifications1764000000400 } from './migrations/1764000000400-access-notifications';
import { WebSessions1764000000500 } from './migrations/1764000000500-web-sessions';
import { BlobMigrationRuns1764000000600 } from './migrations/1764000000600-blob-migration-runs';
import { PackageProtectionRules1764000000700 } from './migrations/1764000000700-package-protection-rules';
import { PendingDeletion1764000000800 } from './migrations/1764000000800-pending-deletion';
import { ResourceAccessTokens1764000000900 } from './migrations/1764000000900-resource-access-tokens';
import { PackagesCleanupPolicies1764000001000 } from './migrations/1764000001000-packages-cleanup-policies';
import { AuditEvents1764000001100 } from './migrations/1764000001100-audit-events';

/** An entity or migration class, as TypeORM takes them. */
export type SchemaClass = abstract new (...args: never[]) => unknown;

export const CORE_ENTITIES: SchemaClass[] = [
  Namespace,
  Project,
  User,
  Member,
  Token,
  Package,
  PackageFile,
  PackageTag,
  PackageSettings,
  PackageProtectionRule,
  Blob,
  AuditEvent,
];
export const CORE_MIGRATIONS: SchemaClass[] = [
  CoreSchema1764000000000,
  TokenParent1764000000001,
  DocumentClock1764000000100,
  RootTokenEnv1764000000200,
  RemoteRegistries1764000000300,
  AccessNotifications1764000000400,
  WebSessions1764000000500,
  BlobMigrationRuns1764000000600,
  PackageProtectionRules1764000000700,
  PendingDeletion1764000000800,
  ResourceAccessTokens1764000000900,
  PackagesCleanupPolicies1764000001000,
  AuditEvents1764000001100,
];
