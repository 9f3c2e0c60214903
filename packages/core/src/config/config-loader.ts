import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { parse as parseYaml } from 'yaml';

import { sectionAt, STORAGE_SECTIONS, type StorageConfigSchema } from './storage-sections';
import { FormatConfig, StowageConfig } from './stowage-config';

export const ENV_PREFIX = 'STOWAGE_';
/** STOWAGE_* variables that are not config keys. */
const NON_CONFIG_ENV = new Set(['STOWAGE_CONFIG', 'STOWAGE_ROOT_TOKEN']);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type RawConfig = Record<string, unknown>;

export interface ConfigSources {
  /** A YAML file; when absent, ./stowage.yml is read if it exists. */
  file?: string;
  /** Environment to read STOWAGE_* overrides from. */
  env?: NodeJS.ProcessEnv;
  /** Values applied last (tests and the CLI use these). */
  overrides?: RawConfig;
}

function isPlainObject(v: unknown): v is RawConfig {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(target: RawConfig, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as RawConfig;
  }
  node[path[path.length - 1]] = value;
}

function deepMerge(base: RawConfig, over: RawConfig): RawConfig {
  const out: RawConfig = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as RawConfig, v) : v;
  }
  return out;
}

/** `STOWAGE_PACKAGES__OBJECT_STORE__ENABLED=true` → `{packages: {object_store: {enabled: 'true'}}}`. */
export function envOverrides(env: NodeJS.ProcessEnv): RawConfig {
  const out: RawConfig = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || NON_CONFIG_ENV.has(name) || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split('__');
    if (path.some((p) => p === '')) continue;
    // Lists and maps can be given inline: STOWAGE_PLUGINS='["@acme/format-helm"]'. A value that
    // does not parse as one is a string (a secret may begin with `{`); the parser's error would quote it.
    const trimmed = value.trim();
    setPath(out, path, trimmed.startsWith('[') || trimmed.startsWith('{') ? inlineYaml(trimmed, value) : value);
  }
  return out;
}

function inlineYaml(text: string, value: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return value;
  }
}

/** Reads the YAML file and the environment into one raw object (not yet validated). */
export function readRawConfig(sources: ConfigSources = {}): RawConfig {
  const env = sources.env ?? process.env;
  const explicit = sources.file ?? env.STOWAGE_CONFIG;
  const file = explicit ?? (existsSync('stowage.yml') ? 'stowage.yml' : undefined);
  let fromFile: RawConfig = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new ConfigError([`${file}: not valid YAML: ${(err as Error).message}`]);
    }
    if (parsed != null && !isPlainObject(parsed)) {
      throw new ConfigError([`${file}: must hold a mapping of settings`]);
    }
    fromFile = (parsed as RawConfig | null) ?? {};
  }
  return deepMerge(deepMerge(fromFile, envOverrides(env)), sources.overrides ?? {});
}

function flattenErrors(errors: ValidationError[], prefix: string, out: string[]): void {
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    for (const [kind, message] of Object.entries(e.constraints ?? {})) {
      if (kind === 'whitelistValidation') out.push(`${path}: unknown key`);
      else out.push(`${path}: ${message.replace(new RegExp(`^${e.property} `), '')}`);
    }
    if (e.children?.length) flattenErrors(e.children, path, out);
  }
}

function validateSection<T extends object>(cls: new () => T, raw: unknown, path: string, problems: string[]): T {
  if (raw !== undefined && raw !== null && !isPlainObject(raw)) {
    problems.push(`${path}: must be a mapping`);
    return new cls();
  }
  const instance = plainToInstance(cls, raw ?? {}, { exposeDefaultValues: true });
  flattenErrors(validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true }), path, problems);
  return instance;
}

/** The config section class of each installed format plugin, by format name. */
export type FormatConfigSchemas = ReadonlyMap<string, new () => FormatConfig>;

/** The keys a config class declares (every decorated property, its parents' included). */
function declaredKeys(cls: new () => object): Set<string> {
  return new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(cls, '', true, false)
      .map((m) => m.propertyName),
  );
}

/**
 * Takes each storage plugin's own keys out of a copy of the raw config, so core's schema never
 * sees them: the plugin's class validates them, under the same key paths.
 */
function splitStorageKeys(
  raw: RawConfig,
  storages: readonly StorageConfigSchema[],
): { core: RawConfig; own: Map<StorageConfigSchema, RawConfig> } {
  const core: RawConfig = { ...raw };
  const own = new Map<StorageConfigSchema, RawConfig>();
  for (const storage of storages) {
    if (!storage.config) continue;
    const path = STORAGE_SECTIONS[storage.kind];
    // Copy the path down to the section so that deleting keys leaves the caller's object alone.
    let node = core;
    for (const key of path) {
      if (!isPlainObject(node[key])) break;
      node = node[key] = { ...(node[key] as RawConfig) };
    }
    const section = sectionAt(core, path);
    const picked: RawConfig = {};
    if (section) {
      for (const key of declaredKeys(storage.config)) {
        if (key in section) {
          picked[key] = section[key];
          delete section[key];
        }
      }
    }
    own.set(storage, picked);
  }
  return { core, own };
}

/**
 * Validates a raw config against the core schema, each installed format's section and each
 * storage plugin's keys. Every problem is collected before one ConfigError is thrown.
 */
export function resolveConfig(
  raw: RawConfig,
  formats: FormatConfigSchemas = new Map(),
  storages: readonly StorageConfigSchema[] = [],
): StowageConfig {
  const problems: string[] = [];
  const { core: rawCore, own: storageKeys } = splitStorageKeys(raw, storages);
  const { formats: rawFormats, ...rest } = rawCore;
  const config = plainToInstance(StowageConfig, rest, { exposeDefaultValues: true });
  flattenErrors(validateSync(config, { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true }), '', problems);

  // A storage plugin's keys join core's in the resolved section, where GitLab has them.
  for (const [storage, given] of storageKeys) {
    const path = STORAGE_SECTIONS[storage.kind];
    const settings = validateSection(storage.config!, given, path.join('.'), problems);
    const section = sectionAt(config, path);
    if (section) Object.assign(section, settings);
  }

  config.formats = {};
  if (rawFormats !== undefined && rawFormats !== null && !isPlainObject(rawFormats)) {
    problems.push('formats: must be a mapping of format name to settings');
  } else {
    const given = (rawFormats as RawConfig | undefined) ?? {};
    for (const name of Object.keys(given)) {
      if (!formats.has(name)) {
        const known = [...formats.keys()].sort().join(', ') || 'none';
        problems.push(`formats.${name}: no format plugin of this name is installed (installed: ${known})`);
      }
    }
    for (const [name, schema] of formats) {
      config.formats[name] = validateSection(schema, given[name], `formats.${name}`, problems);
    }
  }

  if (problems.length) throw new ConfigError(problems);

  config.data_dir = resolve(config.data_dir);
  config.server.external_url = (config.server.external_url ?? `http://localhost:${config.server.port}`).replace(/\/+$/, '');
  return config;
}
