import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FormatModuleOptions } from '@stowage/core';

import type { GenericFormatConfig } from './generic.config';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: GENERIC_OPTIONS } = new ConfigurableModuleBuilder<
  FormatModuleOptions<GenericFormatConfig>
>().build();
