import { Module } from '@nestjs/common';

import { PypiProjectController } from './pypi.controller';
import { PypiIndex } from './pypi.index';
import { ConfigurableModuleClass } from './pypi.module-definition';
import { PypiReads } from './pypi.reads';
import { PypiUploads } from './pypi.upload';
import { PypiGroupController } from './pypi-group.controller';

@Module({ controllers: [PypiProjectController, PypiGroupController], providers: [PypiUploads, PypiIndex, PypiReads] })
export class PypiFormatModule extends ConfigurableModuleClass {}
