import { Module } from '@nestjs/common';

import { ConanAuth } from './conan.auth';
import { ConanMetadata } from './conan.metadata';
import { ConfigurableModuleClass } from './conan.module-definition';
import { ConanRemoval } from './conan.removal';
import { ConanUploads } from './conan.upload';
import { ConanV1InstanceController, ConanV1ProjectController } from './conan.v1.controller';
import { ConanV2Controller } from './conan.v2.controller';

@Module({
  controllers: [ConanV1ProjectController, ConanV1InstanceController, ConanV2Controller],
  providers: [ConanAuth, ConanMetadata, ConanUploads, ConanRemoval],
})
export class ConanFormatModule extends ConfigurableModuleClass {}
