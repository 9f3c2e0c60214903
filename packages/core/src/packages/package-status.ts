export const PACKAGE_STATUSES = ['default', 'hidden', 'processing', 'error', 'pending_destruction', 'deprecated'] as const;
export type PackageStatus = (typeof PACKAGE_STATUSES)[number];
/** Statuses whose files clients may download. */
export const INSTALLABLE_STATUSES: readonly PackageStatus[] = ['default', 'hidden', 'deprecated'];
/** Statuses the Packages API lists when no status filter is given. */
export const DISPLAYABLE_STATUSES: readonly PackageStatus[] = ['default', 'error', 'deprecated'];
