import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FormatModuleOptions } from '@stowage/core';

import type { ComposerFormatConfig } from './composer.config';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: COMPOSER_OPTIONS } = new ConfigurableModuleBuilder<
  FormatModuleOptions<ComposerFormatConfig>
>().build();
