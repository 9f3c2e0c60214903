import type { DynamicModule } from '@nestjs/common';

import { FormatConfig } from '../config/stowage-config';
import type { SchemaClass } from '../database/schema';
import type { Package } from '../packages/package.entity';

/** Options every format module's `register()` receives (its `formats.<name>` section). */
export interface FormatModuleOptions<C extends FormatConfig = FormatConfig> {
  config: C;
}

/** A Nest module class built with ConfigurableModuleBuilder<FormatModuleOptions<C>>. */
export interface FormatModuleClass<C extends FormatConfig = FormatConfig> {
  register(options: FormatModuleOptions<C>): DynamicModule;
}

export interface FormatPluginDefinition<C extends FormatConfig = FormatConfig> {
  /** The config key (`formats.<name>`) and the package_type of its packages. */
  name: string;
  module: FormatModuleClass<C>;
  /** Class of its `formats.<name>` section; must extend FormatConfig. */
  config?: new () => C;
  entities?: SchemaClass[];
  migrations?: SchemaClass[];
  /** The canonical spelling names are looked up and compared by (PEP 503, lower-case…). */
  normalizeName?: (name: string) => string;
  /** The canonical spelling versions are compared by (`1.0` = `1.0.0` for PEP 440…). */
  normalizeVersion?: (version: string) => string;
  /** Whether a project with no duplicate setting accepts a duplicate of this format. */
  duplicatesAllowedByDefault?: boolean;
  /** Request headers (lower-case) this format's clients send a token of any kind in, e.g. NuGet's X-NuGet-ApiKey. */
  credentialHeaders?: readonly string[];
  /**
   * Extra keys for the Packages API's package JSON (`GET /projects/:id/packages/:package_id`),
   * e.g. `pypi_metadata`; they never replace the keys core renders.
   */
  packageDetails?: (pkg: Package) => Record<string, unknown>;
  /**
   * What the web UI's package page shows for a package of this format: the metadata the format
   * records, its dependencies, a README and the client set-up and install commands with this
   * server's URL (`GET /projects/:id/packages/:package_id/overview`).
   */
  packageOverview?: (pkg: Package, context: PackageOverviewContext) => PackageOverview;
}

/** Where a package lives, for the URLs its set-up commands name. */
export interface PackageOverviewContext {
  /** `server.external_url`, no trailing slash. */
  baseUrl: string;
  project: { id: number; full_path: string };
  /** The project's top-level group (instance-level and group endpoints); null in a user namespace. */
  rootGroup: { id: number; full_path: string } | null;
  /** The package's files, oldest first. */
  files: readonly { id: number; file_name: string; size: number }[];
}

/** Plain text throughout: the UI escapes every value and sanitizes the README it renders. */
export interface PackageOverview {
  /** Facts the format records (summary, authors, requires-python, coordinates…), in display order. */
  metadata: { label: string; value: string }[];
  /** `kind` groups them: dependencies, devDependencies, peer, optional, build, … */
  dependencies: { name: string; requirement: string; kind: string }[];
  /** Markdown as the client published it, or null. */
  readme: string | null;
  /**
   * Set-up and install commands in the order a user runs them. A secret the user must fill in
   * is written `<your_token>`; `language` is a hint for display (shell, xml, json, ini, text).
   */
  instructions: { title: string; language: 'shell' | 'xml' | 'json' | 'ini' | 'text'; code: string }[];
}

const FORMAT_PLUGIN = Symbol.for('stowage.format-plugin');

export interface FormatPlugin<C extends FormatConfig = FormatConfig> extends Readonly<Required<FormatPluginDefinition<C>>> {
  readonly [FORMAT_PLUGIN]: true;
}

const FORMAT_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** Declares a format plugin; the server enables it when `formats.<name>.enabled` is true. */
export function defineFormatPlugin<C extends FormatConfig = FormatConfig>(def: FormatPluginDefinition<C>): FormatPlugin<C> {
  if (!FORMAT_NAME.test(def.name)) throw new Error(`format plugin name "${def.name}" must match ${FORMAT_NAME}`);
  if (typeof def.module?.register !== 'function') throw new Error(`format plugin ${def.name}: module must have a static register()`);
  return {
    name: def.name,
    module: def.module,
    config: def.config ?? (FormatConfig as new () => C),
    entities: def.entities ?? [],
    migrations: def.migrations ?? [],
    normalizeName: def.normalizeName ?? ((n) => n),
    normalizeVersion: def.normalizeVersion ?? ((v) => v),
    duplicatesAllowedByDefault: def.duplicatesAllowedByDefault ?? true,
    credentialHeaders: (def.credentialHeaders ?? []).map((h) => h.toLowerCase()),
    packageDetails: def.packageDetails ?? (() => ({})),
    packageOverview: def.packageOverview ?? (() => ({ metadata: [], dependencies: [], readme: null, instructions: [] })),
    [FORMAT_PLUGIN]: true,
  };
}

export function isFormatPlugin(value: unknown): value is FormatPlugin {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FORMAT_PLUGIN] === true;
}
