import { metadataRows, type Package, type PackageOverview, type PackageOverviewContext } from '@stowage/core';

import { pypiMetadata } from './pypi.details';
import { isValidProjectName } from './pypi.naming';

/** Content types whose description is Markdown or readable as it is (PyPI's default, reStructuredText, is neither). */
const README_TYPES = /^\s*text\/(markdown|plain)\s*(;|$)/i;

/**
 * One shell word: as it is when it holds only characters no shell treats specially, otherwise
 * in single quotes (a `'` inside written `'\''`). PEP 440 versions may hold `!` (an epoch,
 * `1!2.0`), which interactive bash expands from its history even inside double quotes.
 */
function shellWord(word: string): string {
  return /^[A-Za-z0-9._+=@%/:,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The package page of a PyPI package: the kept upload-form fields (read as the Packages API's
 * `pypi_metadata` reads them), the description as its README when it is Markdown or plain text,
 * and the pip and twine set-up of the project's index. PyPI stores no dependencies.
 */
export function pypiPackageOverview(pkg: Package, context: PackageOverviewContext): PackageOverview {
  const meta = pypiMetadata(pkg);
  const facts: [string, string | null][] = [
    ['Summary', meta.summary],
    ['Requires-Python', meta.required_python],
    ['Author email', meta.author_email],
    ['Keywords', meta.keywords],
  ];
  const readme = meta.description && README_TYPES.test(meta.description_content_type ?? '') ? meta.description : null;
  return {
    metadata: metadataRows(facts),
    dependencies: [],
    readme,
    instructions: isValidProjectName(pkg.name) ? instructions(pkg, context) : [],
  };
}

function instructions(pkg: Package, { baseUrl, project }: PackageOverviewContext): PackageOverview['instructions'] {
  const path = `/api/v4/projects/${project.id}/packages/pypi`;
  const withToken = baseUrl.replace(/^(https?:\/\/)/, '$1__token__:<your_token>@');
  return [
    {
      title: 'Install with pip',
      language: 'shell',
      code: `pip install --index-url ${withToken}${path}/simple ${shellWord(`${pkg.name}==${pkg.version}`)}`,
    },
    {
      title: 'Publish with twine: ~/.pypirc',
      language: 'ini',
      code: [
        '[distutils]',
        'index-servers = stowage',
        '[stowage]',
        `repository = ${baseUrl}${path}`,
        'username = __token__',
        'password = <your_token>',
      ].join('\n'),
    },
  ];
}
