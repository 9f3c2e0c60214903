import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FormatModuleOptions } from '@stowage/core';

import type { PypiFormatConfig } from './pypi.config';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: PYPI_OPTIONS } = new ConfigurableModuleBuilder<
  FormatModuleOptions<PypiFormatConfig>
>().build();
