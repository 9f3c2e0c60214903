import type { Package, PackageOverview, PackageOverviewContext } from '@stowage/core';

import { isObject } from './npm.body';
import { type NpmName, npmName } from './npm.naming';
import { isSemver } from './npm.semver';

type Dependency = PackageOverview['dependencies'][number];

/** The manifest's dependency maps, by the `kind` the package page groups them under. */
const DEPENDENCY_KINDS: [field: string, kind: string][] = [
  ['dependencies', 'dependencies'],
  ['devDependencies', 'devDependencies'],
  ['peerDependencies', 'peer'],
  ['optionalDependencies', 'optional'],
];

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/** npm's person: `"Name <email> (url)"` as written, or `{ name, email, url }` in that form. */
function person(value: unknown): string | undefined {
  if (!isObject(value)) return text(value);
  const [name, email, url] = [text(value.name), text(value.email), text(value.url)];
  return [name, email && `<${email}>`, url && `(${url})`].filter(Boolean).join(' ') || undefined;
}

/** `"MIT"`, or the legacy `{ type }` and `licenses: [{ type }]`. */
function license(manifest: Record<string, unknown>): string | undefined {
  const legacy = Array.isArray(manifest.licenses) ? manifest.licenses : [];
  const types = [manifest.license, ...legacy].map((l) => (isObject(l) ? text(l.type) : text(l))).filter(Boolean);
  return types.length ? types.join(', ') : undefined;
}

/** `"github:acme/app"` or a URL, or `{ type, url, directory }`. */
function repository(value: unknown): string | undefined {
  if (!isObject(value)) return text(value);
  const url = text(value.url);
  const directory = text(value.directory);
  return url && directory ? `${url} (${directory})` : url;
}

function dependencies(manifest: Record<string, unknown>): Dependency[] {
  return DEPENDENCY_KINDS.flatMap(([field, kind]) => {
    const map = manifest[field];
    if (!isObject(map)) return [];
    return Object.entries(map).flatMap(([name, range]) => (typeof range === 'string' ? [{ name, requirement: range, kind }] : []));
  });
}

function validName(name: string): NpmName | undefined {
  try {
    return npmName(name);
  } catch {
    return undefined;
  }
}

/**
 * The package page of an npm version, from its stored package.json (`storedManifest`) and the
 * README kept beside it (`publishedReadme`; packuments never carry it). Dist-tags
 * live in core's tags, which core shows. The set-up is the `.npmrc` GitLab documents.
 */
export function npmPackageOverview(pkg: Package, context: PackageOverviewContext): PackageOverview {
  const manifest = isObject(pkg.metadata) ? pkg.metadata : {};
  const facts: [string, string | undefined][] = [
    ['Description', text(manifest.description)],
    ['License', license(manifest)],
    ['Homepage', text(manifest.homepage)],
    ['Repository', repository(manifest.repository)],
    ['Author', person(manifest.author)],
    ['Node.js', isObject(manifest.engines) ? text(manifest.engines.node) : undefined],
    ['Published by', isObject(manifest._npmUser) ? text(manifest._npmUser.name) : undefined],
  ];
  // Names and versions were validated at publish (letters, digits, `@/-+._`: nothing a shell
  // reads specially); one that is not is given no command rather than one that might run.
  const name = validName(pkg.name);
  return {
    metadata: facts.filter((f): f is [string, string] => f[1] !== undefined).map(([label, value]) => ({ label, value })),
    dependencies: dependencies(manifest),
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
