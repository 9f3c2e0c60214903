import { Module } from '@nestjs/common';

import { NpmChanges } from './npm.changes';
import { NpmController } from './npm.controller';
import { NpmDistTags } from './npm.dist-tags';
import { NpmForwarding } from './npm.forwarding';
import { NpmMetadata } from './npm.metadata';
import { ConfigurableModuleClass } from './npm.module-definition';
import { NpmPackuments } from './npm.packuments';
import { NpmScopes } from './npm.scopes';
import { NpmPublisher } from './npm.upload';
import { NpmGroupAuditController, NpmInstanceAuditController, NpmProjectAuditController } from './npm-audit.controller';
import { NpmDistTagsController, NpmGroupDistTagsController, NpmInstanceDistTagsController } from './npm-dist-tags.controller';
import { NpmGroupController, NpmInstanceController } from './npm-scopes.controller';
import { NpmSearchController } from './npm-search.controller';
import { NpmSessionController } from './npm-session.controller';

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
  providers: [NpmPublisher, NpmChanges, NpmMetadata, NpmScopes, NpmDistTags, NpmForwarding, NpmPackuments],
})
export class NpmFormatModule extends ConfigurableModuleClass {}
