import { Module } from '@nestjs/common';

import { ComposerGroupController, ComposerProjectController } from './composer.controller';
import { ComposerMetadata } from './composer.metadata';
import { ConfigurableModuleClass } from './composer.module-definition';
import { ComposerUploads } from './composer.upload';

@Module({ controllers: [ComposerGroupController, ComposerProjectController], providers: [ComposerUploads, ComposerMetadata] })
export class ComposerFormatModule extends ConfigurableModuleClass {}
