import { Module } from '@nestjs/common';

import { GoController } from './go.controller';
import { GoModuleIndex } from './go.metadata';
import { ConfigurableModuleClass } from './go.module-definition';
import { GoUploads } from './go.upload';

@Module({ controllers: [GoController], providers: [GoUploads, GoModuleIndex] })
export class GoFormatModule extends ConfigurableModuleClass {}
