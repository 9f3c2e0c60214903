import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FormatModuleOptions } from '@stowage/core';

import type { GoFormatConfig } from './go.config';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: GO_OPTIONS } = new ConfigurableModuleBuilder<
  FormatModuleOptions<GoFormatConfig>
>().build();
