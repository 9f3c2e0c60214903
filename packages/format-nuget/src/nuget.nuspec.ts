import { childElement, childElements, httpErrors, readXml, type XmlElement, XmlError } from '@stowage/core';

// What Stowage keeps from a package's .nuspec (package/metadata), stored on the package row.

export interface NugetDependency {
  id: string;
  /** A NuGet version range as written (`1.0`, `[1.0,2.0)`); '' when none. */
  range: string;
}

export interface NugetDependencyGroup {
  /** '' for the group that applies to every framework. */
  targetFramework: string;
  dependencies: NugetDependency[];
}

export interface NuspecMetadata {
  id: string;
  version: string;
  authors: string;
  description: string;
  summary?: string;
  title?: string;
  tags: string;
  projectUrl?: string;
  licenseUrl?: string;
  iconUrl?: string;
  dependencyGroups: NugetDependencyGroup[];
  packageTypes: string[];
}

const MAX_AUTHORS = 255;
const MAX_DESCRIPTION = 4000;
const MAX_URL = 255;

const bad = (detail: string) => httpErrors.badRequest(detail);

const text = (el: XmlElement | undefined) => (el?.text ?? '').trim();

function dependency(el: XmlElement): NugetDependency | null {
  const id = (el.attributes.id ?? '').trim();
  return id ? { id, range: (el.attributes.version ?? '').trim() } : null;
}

function dependencyGroups(deps: XmlElement | undefined): NugetDependencyGroup[] {
  if (!deps) return [];
  const groups = childElements(deps, 'group').map((g) => ({
    targetFramework: (g.attributes.targetFramework ?? '').trim(),
    dependencies: childElements(g, 'dependency')
      .map(dependency)
      .filter((d): d is NugetDependency => d !== null),
  }));
  const flat = childElements(deps, 'dependency')
    .map(dependency)
    .filter((d): d is NugetDependency => d !== null);
  if (flat.length) groups.unshift({ targetFramework: '', dependencies: flat });
  return groups;
}

function url(meta: XmlElement, name: string): string | undefined {
  const v = text(childElement(meta, name));
  if (!v) return undefined;
  if (v.length > MAX_URL) throw bad(`${name} is too long (maximum is ${MAX_URL} characters)`);
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw bad(`${name} is not a valid url`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw bad(`${name} is not a valid url`);
  return v;
}

/** Reads a .nuspec document; a 400 with GitLab's wording when it cannot be used. */
export async function parseNuspec(xml: string, opts: { symbols?: boolean } = {}): Promise<NuspecMetadata> {
  let root: XmlElement;
  // XML 1.0 has no U+0000 (and PostgreSQL stores none): the recovering read would keep it.
  if (xml.includes('\0')) throw bad('nuspec file is not valid XML: it contains a NUL character');
  try {
    root = await readXml(xml, { lenient: true });
  } catch (err) {
    if (err instanceof XmlError) throw bad(`nuspec file is not valid XML: ${err.message}`);
    throw err;
  }
  const meta = root.localName === 'package' ? childElement(root, 'metadata') : undefined;
  const id = text(childElement(meta, 'id'));
  const version = text(childElement(meta, 'version'));
  const authors = text(childElement(meta, 'authors'));
  const description = text(childElement(meta, 'description'));
  if (!meta || !id || !version || (!opts.symbols && (!authors || !description))) {
    throw bad('package name, version, authors and/or description not found in metadata');
  }
  if (authors.length > MAX_AUTHORS) throw bad(`authors is too long (maximum is ${MAX_AUTHORS} characters)`);
  if (description.length > MAX_DESCRIPTION) throw bad(`description is too long (maximum is ${MAX_DESCRIPTION} characters)`);
  const optional = (name: string) => text(childElement(meta, name)) || undefined;
  return {
    id,
    version,
    authors,
    description,
    summary: optional('summary'),
    title: optional('title'),
    tags: text(childElement(meta, 'tags'))
      .split(/[\s,;]+/)
      .filter(Boolean)
      .join(' '),
    projectUrl: url(meta, 'projectUrl'),
    licenseUrl: url(meta, 'licenseUrl'),
    iconUrl: url(meta, 'iconUrl'),
    dependencyGroups: dependencyGroups(childElement(meta, 'dependencies')),
    packageTypes: childElements(childElement(meta, 'packageTypes'), 'packageType')
      .map((t) => (t.attributes.name ?? '').trim())
      .filter(Boolean),
  };
}
