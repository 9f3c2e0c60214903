import { Module } from '@nestjs/common';

import { MavenGroupController, MavenInstanceController, MavenProjectController } from './maven.controller';
import { MavenMetadata } from './maven.metadata';
import { ConfigurableModuleClass } from './maven.module-definition';
import { MavenReads } from './maven.reads';
import { MavenRemote } from './maven.remote';
import { MavenUploads } from './maven.upload';

@Module({
  controllers: [MavenProjectController, MavenGroupController, MavenInstanceController],
  providers: [MavenUploads, MavenReads, MavenMetadata, MavenRemote],
})
export class MavenFormatModule extends ConfigurableModuleClass {}
