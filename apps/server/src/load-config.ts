import { readRawConfig, resolveConfig, type StowageConfig } from '@stowage/core';

import { type InstalledPlugins, loadPlugins } from './plugins';

export interface LoadedConfig extends InstalledPlugins {
  config: StowageConfig;
}

/**
 * Reads stowage.yml (or --config / STOWAGE_CONFIG) and the STOWAGE_* environment, loads the
 * plugins it names, then validates the whole config against core's schema and every
 * installed format's own section.
 */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const raw = readRawConfig({ file, env });
  const plugins = Array.isArray(raw.plugins) ? raw.plugins.filter((p): p is string => typeof p === 'string') : [];
  const installed = loadPlugins(plugins);
  const config = resolveConfig(raw, new Map(installed.formats.map((f) => [f.name, f.config])));
  return { config, ...installed };
}
