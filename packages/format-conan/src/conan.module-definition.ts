import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FormatModuleOptions } from '@stowage/core';

import type { ConanFormatConfig } from './conan.config';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: CONAN_OPTIONS } = new ConfigurableModuleBuilder<
  FormatModuleOptions<ConanFormatConfig>
>().build();
