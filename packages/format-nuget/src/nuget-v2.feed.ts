import { escapeXml as x, type Package, type PackageFile } from '@stowage/core';

import { normalizeVersion } from './nuget.naming';
import { contentUrl, type FeedUrls } from './nuget.render';
import type { NugetPackageMetadata } from './nuget.upload';

// The legacy v2 feed (OData v2 over Atom) that NuGet 2.x clients read: the service
// document, $metadata, and V2FeedPackage entries and feeds, in the shapes NuGet.Core 2.x parses
// (https://www.odata.org/documentation/odata-version-2-0/atom-format/).

export const ATOM_TYPE = 'application/atom+xml;type=entry;charset=utf-8';
export const ATOM_FEED_TYPE = 'application/atom+xml;type=feed;charset=utf-8';
export const XML_TYPE = 'application/xml;charset=utf-8';

const DS = 'http://schemas.microsoft.com/ado/2007/08/dataservices';
const DSM = 'http://schemas.microsoft.com/ado/2007/08/dataservices/metadata';

export function serviceDocument(v2Base: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<service xmlns="http://www.w3.org/2007/app" xmlns:atom="http://www.w3.org/2005/Atom" xml:base="${x(v2Base)}">` +
    '<workspace><atom:title type="text">Default</atom:title>' +
    '<collection href="Packages"><atom:title type="text">Packages</atom:title></collection>' +
    '</workspace></service>'
  );
}

/** Properties of V2FeedPackage: name and EDM type. Everything an entry carries is declared here. */
const PROPERTIES: [string, string][] = [
  ['Id', 'Edm.String'],
  ['Version', 'Edm.String'],
  ['NormalizedVersion', 'Edm.String'],
  ['Title', 'Edm.String'],
  ['Authors', 'Edm.String'],
  ['Description', 'Edm.String'],
  ['Summary', 'Edm.String'],
  ['Tags', 'Edm.String'],
  ['Dependencies', 'Edm.String'],
  ['IconUrl', 'Edm.String'],
  ['LicenseUrl', 'Edm.String'],
  ['ProjectUrl', 'Edm.String'],
  ['PackageHash', 'Edm.String'],
  ['PackageHashAlgorithm', 'Edm.String'],
  ['PackageSize', 'Edm.Int64'],
  ['Published', 'Edm.DateTime'],
  ['LastUpdated', 'Edm.DateTime'],
  ['Created', 'Edm.DateTime'],
  ['DownloadCount', 'Edm.Int32'],
  ['VersionDownloadCount', 'Edm.Int32'],
  ['IsLatestVersion', 'Edm.Boolean'],
  ['IsAbsoluteLatestVersion', 'Edm.Boolean'],
  ['IsPrerelease', 'Edm.Boolean'],
  ['Listed', 'Edm.Boolean'],
  ['RequireLicenseAcceptance', 'Edm.Boolean'],
];

export function metadataDocument(): string {
  const props = PROPERTIES.map(
    ([n, t]) => `<Property Name="${n}" Type="${t}" Nullable="${n === 'Id' || n === 'Version' ? 'false' : 'true'}"/>`,
  ).join('');
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">' +
    `<edmx:DataServices xmlns:m="${DSM}" m:DataServiceVersion="2.0" m:MaxDataServiceVersion="2.0">` +
    '<Schema Namespace="NuGetGallery.OData" xmlns="http://schemas.microsoft.com/ado/2006/04/edm">' +
    '<EntityType Name="V2FeedPackage" m:HasStream="true"><Key><PropertyRef Name="Id"/><PropertyRef Name="Version"/></Key>' +
    props +
    '</EntityType></Schema>' +
    '<Schema Namespace="NuGetGallery" xmlns="http://schemas.microsoft.com/ado/2006/04/edm">' +
    '<EntityContainer Name="V2FeedContext" m:IsDefaultEntityContainer="true">' +
    '<EntitySet Name="Packages" EntityType="NuGetGallery.OData.V2FeedPackage"/>' +
    '<FunctionImport Name="FindPackagesById" ReturnType="Collection(NuGetGallery.OData.V2FeedPackage)" EntitySet="Packages">' +
    '<Parameter Name="id" Type="Edm.String" FromBody="false"/></FunctionImport>' +
    '</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>'
  );
}

/** The v2 `Dependencies` string: `id:range:tfm|id:range:tfm` (`::tfm` for a framework without dependencies). */
export function dependenciesString(m: Partial<NugetPackageMetadata>): string {
  const out: string[] = [];
  for (const g of m.dependencyGroups ?? []) {
    if (!g.dependencies.length && g.targetFramework) out.push(`::${g.targetFramework}`);
    for (const d of g.dependencies) out.push(`${d.id}:${d.range}:${g.targetFramework}`);
  }
  return out.join('|');
}

const edmDate = (d: Date) => d.toISOString().replace(/Z$/, '');

export interface EntryView {
  pkg: Package;
  file: PackageFile | undefined;
  isLatest: boolean;
  isAbsoluteLatest: boolean;
}

function property(name: string, type: string, value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return `<d:${name} m:null="true"/>`;
  const typeAttr = type === 'Edm.String' ? '' : ` m:type="${type}"`;
  return `<d:${name}${typeAttr}>${x(String(value))}</d:${name}>`;
}

function entryBody(urls: FeedUrls, v2Base: string, e: EntryView): string {
  const { pkg, file } = e;
  const m = pkg.metadata as Partial<NugetPackageMetadata>;
  const id = `${v2Base}/Packages(Id='${encodeURIComponent(pkg.name)}',Version='${encodeURIComponent(pkg.version)}')`;
  const values: Record<string, string | number | boolean | undefined> = {
    Id: pkg.name,
    Version: pkg.version,
    NormalizedVersion: normalizeVersion(pkg.version),
    Title: m.title ?? pkg.name,
    Authors: m.authors ?? '',
    Description: m.description ?? '',
    Summary: m.summary ?? '',
    Tags: m.tags ?? '',
    Dependencies: dependenciesString(m),
    IconUrl: m.iconUrl,
    LicenseUrl: m.licenseUrl,
    ProjectUrl: m.projectUrl,
    PackageHash: file ? Buffer.from(file.file_sha512, 'hex').toString('base64') : undefined,
    PackageHashAlgorithm: file ? 'SHA512' : undefined,
    PackageSize: file?.size,
    Published: edmDate(pkg.created_at),
    LastUpdated: edmDate(pkg.updated_at),
    Created: edmDate(pkg.created_at),
    DownloadCount: 0,
    VersionDownloadCount: 0,
    IsLatestVersion: e.isLatest,
    IsAbsoluteLatestVersion: e.isAbsoluteLatest,
    IsPrerelease: pkg.version.includes('-'),
    Listed: true,
    RequireLicenseAcceptance: false,
  };
  return (
    `<id>${x(id)}</id>` +
    `<category term="NuGetGallery.OData.V2FeedPackage" scheme="${DS}/scheme"/>` +
    `<link rel="edit" title="V2FeedPackage" href="${x(id)}"/>` +
    `<title type="text">${x(pkg.name)}</title>` +
    `<summary type="text">${x(m.summary ?? '')}</summary>` +
    `<updated>${pkg.updated_at.toISOString()}</updated>` +
    `<author><name>${x(m.authors ?? '')}</name></author>` +
    `<link rel="edit-media" title="V2FeedPackage" href="${x(id)}/$value"/>` +
    `<content type="application/zip" src="${x(contentUrl(urls, pkg))}"/>` +
    `<m:properties>${PROPERTIES.map(([n, t]) => property(n, t, values[n])).join('')}</m:properties>`
  );
}

const NAMESPACES = `xmlns="http://www.w3.org/2005/Atom" xmlns:d="${DS}" xmlns:m="${DSM}"`;

export function entryDocument(urls: FeedUrls, v2Base: string, e: EntryView): string {
  return `<?xml version="1.0" encoding="utf-8"?><entry xml:base="${x(v2Base)}" ${NAMESPACES}>${entryBody(urls, v2Base, e)}</entry>`;
}

/** An Atom feed of entries; `nextHref` (relative to the v2 base) links the following page. */
export function feedDocument(
  urls: FeedUrls,
  v2Base: string,
  title: string,
  selfHref: string,
  entries: EntryView[],
  nextHref?: string,
): string {
  const updated = new Date().toISOString();
  return (
    `<?xml version="1.0" encoding="utf-8"?><feed xml:base="${x(v2Base)}" ${NAMESPACES}>` +
    `<id>${x(`${v2Base}/${selfHref}`)}</id><title type="text">${x(title)}</title><updated>${updated}</updated>` +
    `<link rel="self" title="${x(title)}" href="${x(selfHref)}"/>` +
    entries.map((e) => `<entry>${entryBody(urls, v2Base, e)}</entry>`).join('') +
    (nextHref ? `<link rel="next" href="${x(`${v2Base}/${nextHref}`)}"/>` : '') +
    '</feed>'
  );
}
