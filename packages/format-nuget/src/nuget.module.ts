import { Module } from '@nestjs/common';

import { NugetController, NugetGroupController } from './nuget.controller';
import { NugetMetadata } from './nuget.metadata';
import { ConfigurableModuleClass } from './nuget.module-definition';
import { NugetReads } from './nuget.reads';
import { NugetSearch } from './nuget.search';
import { NugetUploads } from './nuget.upload';
import { NugetGroupV2Controller, NugetV2Controller } from './nuget.v2.controller';

// The v2 controllers come first: their static `v2` prefix must not be read as a package id.
@Module({
  controllers: [NugetV2Controller, NugetGroupV2Controller, NugetController, NugetGroupController],
  providers: [NugetUploads, NugetMetadata, NugetSearch, NugetReads],
})
export class NugetFormatModule extends ConfigurableModuleClass {}
