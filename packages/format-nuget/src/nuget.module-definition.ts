import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FormatModuleOptions } from '@stowage/core';

import type { NugetFormatConfig } from './nuget.config';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: NUGET_OPTIONS } = new ConfigurableModuleBuilder<
  FormatModuleOptions<NugetFormatConfig>
>().build();
