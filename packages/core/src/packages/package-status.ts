export const PACKAGE_STATUSES = ['default', 'hidden', 'processing', 'error', 'pending_destruction', 'deprecated'] as const;
export type PackageStatus = (typeof PACKAGE_STATUSES)[number];
/**
 * Statuses of a package that holds its name and version: every one but `pending_destruction`,
 * as the partial unique index on packages says. A new upload of that version lands in it.
 */
export const LIVE_STATUSES: readonly PackageStatus[] = PACKAGE_STATUSES.filter((s) => s !== 'pending_destruction');
/** Statuses whose files clients may download. */
export const INSTALLABLE_STATUSES: readonly PackageStatus[] = ['default', 'hidden', 'deprecated'];
/** Statuses the Packages API lists when no status filter is given. */
export const DISPLAYABLE_STATUSES: readonly PackageStatus[] = ['default', 'error', 'deprecated'];
