import { createRequire } from 'node:module';
import { join } from 'node:path';

import { type FormatPlugin, isFormatPlugin, isStoragePlugin, type StoragePlugin } from '@stowage/core';
import { composerFormat } from '@stowage/format-composer';
import { conanFormat } from '@stowage/format-conan';
import { genericFormat } from '@stowage/format-generic';
import { goFormat } from '@stowage/format-go';
import { mavenFormat } from '@stowage/format-maven';
import { npmFormat } from '@stowage/format-npm';
import { nugetFormat } from '@stowage/format-nuget';
import { pypiFormat } from '@stowage/format-pypi';
import { localStorage } from '@stowage/storage-local';
import { s3Storage } from '@stowage/storage-s3';

/** What ships with the server; `plugins:` in the config adds more. */
export const BUILTIN_FORMATS: readonly FormatPlugin[] = [
  genericFormat,
  composerFormat,
  conanFormat,
  goFormat,
  mavenFormat,
  npmFormat,
  nugetFormat,
  pypiFormat,
];
export const BUILTIN_STORAGES: readonly StoragePlugin[] = [localStorage, s3Storage];

export interface InstalledPlugins {
  formats: FormatPlugin[];
  storages: StoragePlugin[];
}

export class PluginLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginLoadError';
  }
}

/**
 * Loads each `plugins:` entry by module name (resolved from the working directory first,
 * then from the server's own dependencies). Every exported format or storage plugin is
 * installed; a module that cannot be loaded, exports none, or clashes with one already
 * installed stops start-up.
 */
export function loadPlugins(names: readonly string[], cwd = process.cwd()): InstalledPlugins {
  const formats = [...BUILTIN_FORMATS];
  const storages = [...BUILTIN_STORAGES];
  const fromCwd = createRequire(join(cwd, 'noop.js'));
  for (const name of names) {
    // Resolve first, so that an error the plugin itself throws while loading is reported
    // as it is rather than as "cannot find module".
    let path: string;
    try {
      path = fromCwd.resolve(name);
    } catch {
      try {
        path = require.resolve(name);
      } catch (err) {
        throw new PluginLoadError(`plugins: ${name} cannot be loaded (${(err as Error).message.split('\n')[0]})`);
      }
    }
    let mod: Record<string, unknown>;
    try {
      // A plugin is a CommonJS package named in the config, loaded synchronously while the module graph is built.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(path);
    } catch (err) {
      throw new PluginLoadError(`plugins: ${name} cannot be loaded (${(err as Error).message.split('\n')[0]})`);
    }
    const exported = Object.values(mod ?? {});
    const newFormats = exported.filter(isFormatPlugin);
    const newStorages = exported.filter(isStoragePlugin);
    if (!newFormats.length && !newStorages.length) {
      throw new PluginLoadError(`plugins: ${name} exports no format or storage plugin (use defineFormatPlugin or defineStoragePlugin)`);
    }
    for (const f of newFormats) {
      if (formats.some((g) => g.name === f.name))
        throw new PluginLoadError(`plugins: ${name} defines format ${f.name}, which is already installed`);
      formats.push(f);
    }
    for (const s of newStorages) {
      const i = storages.findIndex((t) => t.kind === s.kind);
      // A third-party store of a kind replaces the built-in one (the operator asked for it).
      if (i >= 0 && BUILTIN_STORAGES.includes(storages[i])) storages.splice(i, 1);
      else if (i >= 0) throw new PluginLoadError(`plugins: ${name} defines a ${s.kind} storage, which another plugin already provides`);
      storages.push(s);
    }
  }
  return { formats, storages };
}
