import { Module } from '@nestjs/common';

import { MavenGroupController, MavenInstanceController, MavenProjectController } from './maven.controller';
import { MavenDownloads } from './maven.download';
import { MavenMetadata } from './maven.metadata';
import { ConfigurableModuleClass } from './maven.module-definition';
import { MavenUploads } from './maven.upload';

@Module({
  controllers: [MavenProjectController, MavenGroupController, MavenInstanceController],
  providers: [MavenUploads, MavenDownloads, MavenMetadata],
})
export class MavenFormatModule extends ConfigurableModuleClass {}
