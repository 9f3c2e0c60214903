import { Module } from '@nestjs/common';

import { NpmGroupAuditController, NpmInstanceAuditController, NpmProjectAuditController } from './npm.audit.controller';
import { NpmChanges } from './npm.changes';
import { NpmController } from './npm.controller';
import { NpmDistTags } from './npm.dist-tags';
import { NpmDistTagsController, NpmGroupDistTagsController, NpmInstanceDistTagsController } from './npm.dist-tags.controller';
import { NpmForwarding } from './npm.forwarding';
import { NpmMetadata } from './npm.metadata';
import { ConfigurableModuleClass } from './npm.module-definition';
import { NpmReads } from './npm.reads';
import { NpmRemote } from './npm.remote';
import { NpmScopes } from './npm.scopes';
import { NpmGroupController, NpmInstanceController } from './npm.scopes.controller';
import { NpmSearchController } from './npm.search.controller';
import { NpmSessionController } from './npm.session.controller';
import { NpmUploads } from './npm.upload';

// Controllers with static prefixes (dist-tags, search, audit) come before the wildcard ones.
@Module({
  controllers: [
    NpmDistTagsController,
    NpmGroupDistTagsController,
    NpmInstanceDistTagsController,
    NpmSearchController,
    NpmSessionController,
    NpmProjectAuditController,
    NpmGroupAuditController,
    NpmInstanceAuditController,
    NpmController,
    NpmGroupController,
    NpmInstanceController,
  ],
  providers: [NpmUploads, NpmChanges, NpmMetadata, NpmScopes, NpmDistTags, NpmForwarding, NpmReads, NpmRemote],
})
export class NpmFormatModule extends ConfigurableModuleClass {}
