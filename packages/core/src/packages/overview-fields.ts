import type { PackageOverview } from '../plugin/format-plugin';

/*
 * Small readers for a format's `packageOverview`: its row's metadata is JSON a client sent,
 * so every field is `unknown` until one of these has looked at it.
 */

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string as it was written, else undefined. */
export function jsonString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A string with more than white space in it, trimmed, else undefined. */
export function jsonText(value: unknown): string | undefined {
  return typeof value === 'string' ? jsonString(value.trim()) : undefined;
}

/** The `[label, value]` facts whose value is a non-empty string, as the overview's metadata rows, in order. */
export function metadataRows(facts: readonly (readonly [label: string, value: unknown])[]): PackageOverview['metadata'] {
  return facts.flatMap(([label, value]) => (typeof value === 'string' && value !== '' ? [{ label, value }] : []));
}

/**
 * A `{ name: requirement }` map (package.json's `dependencies`, composer.json's `require`) as
 * dependency rows of one kind; an entry whose requirement is not a string is skipped, and
 * anything but an object gives none.
 */
export function dependencyRows(map: unknown, kind: string): PackageOverview['dependencies'] {
  if (!isJsonObject(map)) return [];
  return Object.entries(map).flatMap(([name, requirement]) => (typeof requirement === 'string' ? [{ name, requirement, kind }] : []));
}

/** Whether `check` returns without throwing: a format's name or version rule accepting a stored value. */
export function passes(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

/** What `read` returns, or undefined when it throws (a format's parser refusing a stored value). */
export function unlessThrows<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
