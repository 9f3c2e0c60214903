import { Module } from '@nestjs/common';

import { PypiProjectController } from './pypi.controller';
import { PypiGroupController } from './pypi.group.controller';
import { PypiMetadata } from './pypi.metadata';
import { ConfigurableModuleClass } from './pypi.module-definition';
import { PypiReads } from './pypi.reads';
import { PypiRemote } from './pypi.remote';
import { PypiUploads } from './pypi.upload';

@Module({ controllers: [PypiProjectController, PypiGroupController], providers: [PypiUploads, PypiMetadata, PypiReads, PypiRemote] })
export class PypiFormatModule extends ConfigurableModuleClass {}
