import { Module } from '@nestjs/common';
import { PypiGroupController } from './pypi-group.controller';
import { PypiProjectController } from './pypi.controller';
import { PypiIndex } from './pypi.index';
import { ConfigurableModuleClass } from './pypi.module-definition';
import { PypiUploads } from './pypi.upload';

@Module({ controllers: [PypiProjectController, PypiGroupController], providers: [PypiUploads, PypiIndex] })
export class PypiFormatModule extends ConfigurableModuleClass {}
