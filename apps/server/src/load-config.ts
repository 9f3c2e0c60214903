import { readRawConfig, resolveConfig, type StowageConfig } from '@stowage/core';

import { type InstalledPlugins, loadPlugins } from './plugins';

export interface LoadedConfig extends InstalledPlugins {
  config: StowageConfig;
}

/**
 * Reads stowage.yml (or --config / STOWAGE_CONFIG) and the STOWAGE_* environment, loads the
 * plugins it names, then validates the whole config against core's schema, every
 * installed format's own section and every storage plugin's keys.
 */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const raw = readRawConfig({ file, env });
  const plugins = Array.isArray(raw.plugins) ? raw.plugins.filter((p): p is string => typeof p === 'string') : [];
  const installed = loadPlugins(plugins);
  const config = resolveConfig(raw, new Map(installed.formats.map((f) => [f.name, f.config])), installed.storages);
  return { config, ...installed };
}
