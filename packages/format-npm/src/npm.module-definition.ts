import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FormatModuleOptions } from '@stowage/core';

import type { NpmFormatConfig } from './npm.config';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: NPM_OPTIONS } = new ConfigurableModuleBuilder<
  FormatModuleOptions<NpmFormatConfig>
>().build();
