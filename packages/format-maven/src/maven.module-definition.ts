import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FormatModuleOptions } from '@stowage/core';

import type { MavenFormatConfig } from './maven.config';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: MAVEN_OPTIONS } = new ConfigurableModuleBuilder<
  FormatModuleOptions<MavenFormatConfig>
>().build();
