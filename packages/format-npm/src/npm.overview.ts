import {
  dependencyRows,
  isJsonObject,
  jsonText,
  metadataRows,
  type Package,
  type PackageOverview,
  type PackageOverviewContext,
  unlessThrows,
} from '@stowage/core';

import { type NpmName, npmName } from './npm.naming';
import { isSemver } from './npm.semver';

/** The manifest's dependency maps, by the `kind` the package page groups them under. */
const DEPENDENCY_KINDS: [field: string, kind: string][] = [
  ['dependencies', 'dependencies'],
  ['devDependencies', 'devDependencies'],
  ['peerDependencies', 'peer'],
  ['optionalDependencies', 'optional'],
];

/** npm's person: `"Name <email> (url)"` as written, or `{ name, email, url }` in that form. */
function person(value: unknown): string | undefined {
  if (!isJsonObject(value)) return jsonText(value);
  const [name, email, url] = [jsonText(value.name), jsonText(value.email), jsonText(value.url)];
  return [name, email && `<${email}>`, url && `(${url})`].filter(Boolean).join(' ') || undefined;
}

/** `"MIT"`, or the legacy `{ type }` and `licenses: [{ type }]`. */
function license(manifest: Record<string, unknown>): string | undefined {
  const legacy = Array.isArray(manifest.licenses) ? manifest.licenses : [];
  const types = [manifest.license, ...legacy].map((l) => (isJsonObject(l) ? jsonText(l.type) : jsonText(l))).filter(Boolean);
  return types.length ? types.join(', ') : undefined;
}

/** `"github:acme/app"` or a URL, or `{ type, url, directory }`. */
function repository(value: unknown): string | undefined {
  if (!isJsonObject(value)) return jsonText(value);
  const url = jsonText(value.url);
  const directory = jsonText(value.directory);
  return url && directory ? `${url} (${directory})` : url;
}

/**
 * The package page of an npm version, from its stored package.json (`storedManifest`) and the
 * README kept beside it (`publishedReadme`; packuments never carry it). Dist-tags
 * live in core's tags, which core shows. The set-up is the `.npmrc` GitLab documents.
 */
export function npmPackageOverview(pkg: Package, context: PackageOverviewContext): PackageOverview {
  const manifest = isJsonObject(pkg.metadata) ? pkg.metadata : {};
  const facts: [string, string | undefined][] = [
    ['Description', jsonText(manifest.description)],
    ['License', license(manifest)],
    ['Homepage', jsonText(manifest.homepage)],
    ['Repository', repository(manifest.repository)],
    ['Author', person(manifest.author)],
    ['Node.js', isJsonObject(manifest.engines) ? jsonText(manifest.engines.node) : undefined],
    ['Published by', isJsonObject(manifest._npmUser) ? jsonText(manifest._npmUser.name) : undefined],
  ];
  // Names and versions were validated at publish (letters, digits, `@/-+._`: nothing a shell
  // reads specially); one that is not is given no command rather than one that might run.
  const name = unlessThrows(() => npmName(pkg.name));
  return {
    metadata: metadataRows(facts),
    dependencies: DEPENDENCY_KINDS.flatMap(([field, kind]) => dependencyRows(manifest[field], kind)),
    readme: typeof manifest.readme === 'string' ? manifest.readme : null,
    instructions: name && isSemver(pkg.version) ? instructions(name, pkg.version, context) : [],
  };
}

function instructions(pkg: NpmName, version: string, { baseUrl, project }: PackageOverviewContext): PackageOverview['instructions'] {
  const registry = `${baseUrl}/api/v4/projects/${project.id}/packages/npm/`;
  const hostAndPath = registry.replace(/^https?:/, '');
  return [
    {
      title: pkg.scope ? `.npmrc: the @${pkg.scope} scope from this project` : '.npmrc: this project as the registry',
      language: 'ini',
      code: `${pkg.scope ? `@${pkg.scope}:` : ''}registry=${registry}\n${hostAndPath}:_authToken=<your_token>`,
    },
    { title: 'Install', language: 'shell', code: `npm install ${pkg.name}@${version}` },
  ];
}
