import { Module } from '@nestjs/common';

import { GenericController } from './generic.controller';
import { ConfigurableModuleClass } from './generic.module-definition';
import { GenericUploads } from './generic.upload';

@Module({ controllers: [GenericController], providers: [GenericUploads] })
export class GenericFormatModule extends ConfigurableModuleClass {}
