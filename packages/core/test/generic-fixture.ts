// Core's HTTP surface (the Packages API, the access matrix, package settings) needs a format to
// hold packages: these tests use the generic format, the smallest. It is imported by name without
// a package.json entry, as @stowage/testkit is: @stowage/format-generic depends on @stowage/core,
// so declaring it here would make a workspace cycle. Jest's moduleNameMapper and
// tsconfig.test.json resolve every @stowage/* to its sources.
export { genericFormat } from '@stowage/format-generic';

/** The generic package file route: `rest` is `<name>/<version>/<file>`. */
export function genericPath(project: number | string, rest: string): string {
  return `/api/v4/projects/${project}/packages/generic/${rest}`;
}
