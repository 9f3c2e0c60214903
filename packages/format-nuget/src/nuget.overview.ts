import { escapeXml, jsonString, metadataRows, type Package, type PackageOverview, type PackageOverviewContext } from '@stowage/core';

import { isValidName, isValidVersion } from './nuget.naming';
import type { NugetDependencyGroup } from './nuget.nuspec';
import type { NugetPackageMetadata } from './nuget.upload';

/** Each dependency under its group's target framework (`dependencies` for the group that applies to every one). */
function dependencies(groups: unknown): PackageOverview['dependencies'] {
  if (!Array.isArray(groups)) return [];
  return (groups as Partial<NugetDependencyGroup>[]).flatMap((group) => {
    const kind = jsonString(group?.targetFramework) ?? 'dependencies';
    const deps = Array.isArray(group?.dependencies) ? group.dependencies : [];
    return deps.flatMap((d) =>
      typeof d?.id === 'string' ? [{ name: d.id, requirement: typeof d.range === 'string' ? d.range : '', kind }] : [],
    );
  });
}

/**
 * The package page of a NuGet package, from the nuspec fields the push keeps on the package
 * (`NugetPackageMetadata`): authors, description, URLs, tags and dependency groups. No README
 * is stored (a nuspec `<readme>` names a file inside the .nupkg). The set-up is the
 * `nuget.config` the format's README gives and the `dotnet` commands GitLab documents.
 */
export function nugetPackageOverview(pkg: Package, context: PackageOverviewContext): PackageOverview {
  const meta = (pkg.metadata ?? {}) as Partial<Record<keyof NugetPackageMetadata, unknown>>;
  const facts: [string, unknown][] = [
    ['Title', meta.title],
    ['Summary', meta.summary],
    ['Description', meta.description],
    ['Authors', meta.authors],
    ['Project URL', meta.projectUrl],
    ['License URL', meta.licenseUrl],
    ['Tags', meta.tags],
    ['Package types', Array.isArray(meta.packageTypes) ? meta.packageTypes.filter((t) => typeof t === 'string').join(', ') : undefined],
  ];
  return {
    metadata: metadataRows(facts),
    dependencies: dependencies(meta.dependencyGroups),
    readme: null,
    // Ids and versions were validated at push (letters, digits, `-+._`): nothing a shell reads specially.
    instructions: isValidName(pkg.name) && isValidVersion(pkg.version) ? instructions(pkg, context) : [],
  };
}

function instructions(pkg: Package, { baseUrl, project }: PackageOverviewContext): PackageOverview['instructions'] {
  const source = `${baseUrl}/api/v4/projects/${project.id}/packages/nuget/index.json`;
  return [
    {
      title: 'Add the source (dotnet)',
      language: 'shell',
      code: `dotnet nuget add source "${source}" --name stowage --username any --password <your_token> --store-password-in-clear-text`,
    },
    {
      title: 'Or: nuget.config',
      language: 'xml',
      code: [
        '<configuration>',
        `  <packageSources><clear /><add key="stowage" value="${escapeXml(source)}" /></packageSources>`,
        '  <packageSourceCredentials><stowage>',
        '    <add key="Username" value="any" /><add key="ClearTextPassword" value="<your_token>" />',
        '  </stowage></packageSourceCredentials>',
        '</configuration>',
      ].join('\n'),
    },
    { title: 'Install', language: 'shell', code: `dotnet add package ${pkg.name} --version ${pkg.version}` },
    { title: 'Or with nuget', language: 'shell', code: `nuget install ${pkg.name} -Version ${pkg.version} -Source stowage` },
  ];
}
