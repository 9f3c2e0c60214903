import { Package, type PackageOverviewContext } from '@stowage/core';

/** Markup, shell substitutions and both quotes: text a package page must show as it is and never run. */
export const HOSTILE_TEXT = `<script>alert(1)</script> $(rm -rf /) \`id\` "it's"`;

/**
 * Where a package lives for a format's `packageOverview`: project 42 (`acme/app`) in a user
 * namespace (no top-level group) on `https://stowage.example.com`, no files; `overrides` replace keys.
 */
export function overviewContext(overrides: Partial<PackageOverviewContext> = {}): PackageOverviewContext {
  return {
    baseUrl: 'https://stowage.example.com',
    project: { id: 42, full_path: 'acme/app' },
    rootGroup: null,
    files: [],
    ...overrides,
  };
}

/**
 * A `Package` entity as a row read back: package 1 of project 42, status `default`, empty
 * metadata, the normalized name and version as given unless `fields` say otherwise.
 */
export function packageRow(fields: Partial<Package> = {}): Package {
  const name = fields.name ?? 'package';
  const version = fields.version ?? '1.0.0';
  const created = new Date('2025-01-01T00:00:00Z');
  return Object.assign(new Package(), {
    id: 1,
    project_id: 42,
    package_type: 'generic',
    name,
    normalized_name: name,
    version,
    normalized_version: version,
    status: 'default',
    metadata: {},
    created_at: created,
    updated_at: created,
    last_downloaded_at: null,
    ...fields,
  } satisfies Package);
}
