import type { PackageScope } from '@stowage/core';

import type { FeedUrls } from './nuget.render';

export function projectBase(origin: string, projectId: number): string {
  return `${origin}/api/v4/projects/${projectId}/packages/nuget`;
}

export function groupBase(origin: string, groupId: number): string {
  return `${origin}/api/v4/groups/${groupId}/-/packages/nuget`;
}

export function projectUrls(origin: string, projectId: number): FeedUrls {
  return { scopeBase: projectBase(origin, projectId), projectBase: (id) => projectBase(origin, id) };
}

export function groupUrls(origin: string, groupId: number): FeedUrls {
  return { scopeBase: groupBase(origin, groupId), projectBase: (id) => projectBase(origin, id) };
}

/** The URLs of a project or group feed. */
export function scopeUrls(origin: string, scope: PackageScope): FeedUrls {
  if (scope.kind === 'instance') throw new Error('NuGet has no instance-level feed');
  return scope.kind === 'project' ? projectUrls(origin, scope.projectId) : groupUrls(origin, scope.groupId);
}

const resource = (id: string, type: string, comment: string) => ({ '@id': id, '@type': type, comment });

/** The v3 service index: search and registration for both levels, download and publish for projects. */
export function serviceIndex(base: string, level: 'project' | 'group') {
  const search = 'Query endpoint of NuGet Search service (primary)';
  const registration = 'Base URL of Azure storage where NuGet package registration info is stored';
  const resources = [
    ...['SearchQueryService', 'SearchQueryService/3.0.0-beta', 'SearchQueryService/3.0.0-rc'].map((t) =>
      resource(`${base}/query`, t, search),
    ),
    ...['RegistrationsBaseUrl', 'RegistrationsBaseUrl/3.0.0-beta', 'RegistrationsBaseUrl/3.0.0-rc'].map((t) =>
      resource(`${base}/metadata`, t, registration),
    ),
  ];
  if (level === 'project') {
    resources.push(
      resource(
        `${base}/download`,
        'PackageBaseAddress/3.0.0',
        'Base URL of where NuGet packages are stored, in the format https://api.nuget.org/v3-flatcontainer/{id-lower}/{version-lower}/{id-lower}.{version-lower}.nupkg',
      ),
      resource(base, 'PackagePublish/2.0.0', 'Push and delete (or unlist) packages.'),
      resource(`${base}/symbolpackage`, 'SymbolPackagePublish/4.9.0', 'Push symbol packages.'),
    );
  }
  return { version: '3.0.0', resources };
}
