import { Module } from '@nestjs/common';

import { GoController } from './go.controller';
import { GoMetadata } from './go.metadata';
import { ConfigurableModuleClass } from './go.module-definition';
import { GoUploads } from './go.upload';

@Module({ controllers: [GoController], providers: [GoUploads, GoMetadata] })
export class GoFormatModule extends ConfigurableModuleClass {}
