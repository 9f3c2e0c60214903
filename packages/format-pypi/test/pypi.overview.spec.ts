import { execFileSync } from 'node:child_process';

import type { Package } from '@stowage/core';
import { HOSTILE_TEXT, overviewContext, packageRow } from '@stowage/testkit';

import { PYPI } from '../src/pypi.naming';
import { pypiPackageOverview } from '../src/pypi.overview';
import { keptFields } from '../src/pypi.upload';

const context = overviewContext();

/** A release as twine's upload form leaves it on the package row. */
function uploaded(form: Record<string, string>, name = 'my-pkg', version = '1.0.0'): Package {
  const metadata = keptFields(new Map(Object.entries(form).map(([k, v]) => [k, [v]])));
  return packageRow({ package_type: PYPI, name, version, metadata });
}

describe('PyPI package overview', () => {
  it('shows the kept upload fields and a Markdown description as the README; no dependencies are stored', () => {
    const overview = pypiPackageOverview(
      uploaded({
        summary: 'Says hello',
        requires_python: '>=3.9',
        author_email: 'ada@acme.example',
        keywords: 'greeting,hello',
        description: '# my-pkg\n\nHello.',
        description_content_type: 'text/markdown; charset=UTF-8; variant=GFM',
        metadata_version: '2.1',
      }),
      context,
    );
    expect(overview.metadata).toEqual([
      { label: 'Summary', value: 'Says hello' },
      { label: 'Requires-Python', value: '>=3.9' },
      { label: 'Author email', value: 'ada@acme.example' },
      { label: 'Keywords', value: 'greeting,hello' },
    ]);
    expect(overview.readme).toBe('# my-pkg\n\nHello.');
    expect(overview.dependencies).toEqual([]);
  });

  it('shows a plain-text description, but not reStructuredText or one of no declared type', () => {
    const readme = (type?: string) =>
      pypiPackageOverview(uploaded({ description: 'Hello', ...(type ? { description_content_type: type } : {}) }), context).readme;
    expect(readme('text/plain')).toBe('Hello');
    expect(readme('text/x-rst')).toBeNull();
    expect(readme()).toBeNull();
    expect(pypiPackageOverview(uploaded({}), context).metadata).toEqual([]);
  });

  it('gives pip with the token in the index URL, and the .pypirc twine reads', () => {
    const [pip, pypirc] = pypiPackageOverview(uploaded({}), {
      ...context,
      baseUrl: 'http://stowage.example.com:8080/registry',
    }).instructions;
    expect(pip).toEqual({
      title: 'Install with pip',
      language: 'shell',
      code: 'pip install --index-url http://__token__:<your_token>@stowage.example.com:8080/registry/api/v4/projects/42/packages/pypi/simple my-pkg==1.0.0',
    });
    expect(pypirc.language).toBe('ini');
    expect(pypirc.code).toContain('repository = http://stowage.example.com:8080/registry/api/v4/projects/42/packages/pypi\n');
    expect(pypirc.code).toContain('password = <your_token>');
  });

  it('single-quotes a requirement a shell would expand (an epoch: `!`)', () => {
    const [pip] = pypiPackageOverview(uploaded({}, 'my-pkg', '1!2.0+local.1'), context).instructions;
    expect(pip.code).toMatch(/\/simple 'my-pkg==1!2\.0\+local\.1'$/);
  });

  it('returns hostile text as it is, and no command for a name PEP 508 refuses', () => {
    const overview = pypiPackageOverview(
      uploaded({ summary: HOSTILE_TEXT, description: HOSTILE_TEXT, description_content_type: 'text/markdown' }),
      context,
    );
    expect(overview.metadata).toEqual([{ label: 'Summary', value: HOSTILE_TEXT }]);
    expect(overview.readme).toBe(HOSTILE_TEXT);
    expect(pypiPackageOverview(uploaded({}, "x'$(rm -rf /)"), context).instructions).toEqual([]);
    const [pip] = pypiPackageOverview(uploaded({}, 'my-pkg', "1.0'$(rm -rf /)"), context).instructions;
    expect(pip.code).toMatch(/\/simple 'my-pkg==1\.0'\\''\$\(rm -rf \/\)'$/);
  });

  it('quotes so that a shell reads the requirement back unchanged', () => {
    const version = `1.0'"$(echo pwned)\`echo pwned\`!1 *`;
    const [pip] = pypiPackageOverview(uploaded({}, 'my-pkg', version), context).instructions;
    const word = pip.code.slice(pip.code.indexOf('/simple ') + '/simple '.length);
    expect(execFileSync('sh', ['-c', `printf %s ${word}`]).toString()).toBe(`my-pkg==${version}`);
  });
});
