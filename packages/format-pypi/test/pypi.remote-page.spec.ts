import { UpstreamHttp } from '@stowage/core';

import { PypiUpstreamConfig } from '../src/pypi.config';
import { parseUpstreamPage, UpstreamPageError } from '../src/pypi.remote-page';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const PAGE = 'https://pypi.org/simple/demo/';

// Core's own host check (pypi.org and its CDN, as configured by default), as the server uses it.
let http: UpstreamHttp;
beforeAll(() => {
  http = new UpstreamHttp(new PypiUpstreamConfig());
});
afterAll(() => http.close());
const resolve = (href: string, from: string) => http.link(href, from);
const html = (body: string) =>
  parseUpstreamPage(Buffer.from(`<!DOCTYPE html><html><body>${body}</body></html>`), 'text/html', PAGE, resolve);
const json = (files: unknown[], type = 'application/vnd.pypi.simple.v1+json') =>
  parseUpstreamPage(Buffer.from(JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'demo', files })), type, PAGE, resolve);

describe('reading an upstream PEP 503 page', () => {
  it('keeps sha256, requires-python (entities decoded), yanks and PEP 658/714 metadata, resolving relative links', () => {
    const files = html(`
      <a href="../../packages/demo-1.0-py3-none-any.whl#sha256=${A.toUpperCase()}" data-requires-python="&gt;=3.8,&lt;4"
         data-dist-info-metadata="sha256=${C}" data-core-metadata="sha256=${B}">demo-1.0-py3-none-any.whl</a>
      <A HREF="https://files.pythonhosted.org/packages/ab/demo-1.0.tar.gz#sha256=${B}" DATA-YANKED>demo-1.0.tar.gz</A>
      <a href="/x/demo-2.0.tar.gz#sha256=${C}" data-yanked="broken &amp; bad" data-core-metadata="true">demo-2.0.tar.gz</a>`);
    expect(files).toEqual([
      {
        filename: 'demo-1.0-py3-none-any.whl',
        url: 'https://pypi.org/packages/demo-1.0-py3-none-any.whl',
        sha256: A,
        version: '1.0',
        requiresPython: '>=3.8,<4',
        coreMetadataSha256: B,
      },
      {
        filename: 'demo-1.0.tar.gz',
        url: 'https://files.pythonhosted.org/packages/ab/demo-1.0.tar.gz',
        sha256: B,
        version: '1.0',
        requiresPython: '',
        yanked: true,
      },
      // Metadata declared without a digest could not be verified: not advertised.
      {
        filename: 'demo-2.0.tar.gz',
        url: 'https://pypi.org/x/demo-2.0.tar.gz',
        sha256: C,
        version: '2.0',
        requiresPython: '',
        yanked: 'broken & bad',
      },
    ]);
  });

  it('drops links off the allowed hosts, without a sha256, of other kinds, or with unsafe names', () => {
    const files = html(`
      <a href="https://evil.example/demo-1.0.tar.gz#sha256=${A}">off host</a>
      <a href="http://pypi.org:8080/demo-1.0.tar.gz#sha256=${A}">another port</a>
      <a href="javascript:alert(1)//demo-1.0.tar.gz#sha256=${A}">script</a>
      <a href="demo-1.1.tar.gz">no digest</a>
      <a href="demo-1.2.tar.gz#md5=${A.slice(0, 32)}">md5 only</a>
      <a href="demo-1.3.tar.gz#sha256=${A.slice(1)}">short digest</a>
      <a href="demo-1.4.exe#sha256=${A}">installer</a>
      <a href="..%2Fdemo-1.5.tar.gz#sha256=${A}">encoded slash</a>
      <a href="%E0%A4%A.tar.gz#sha256=${A}">bad escape</a>
      <a href="demo-1.6.tar.gz#sha256=${A}">kept</a>
      <a href="other/demo-1.6.tar.gz#sha256=${B}">same name again</a>`);
    expect(files.map((f) => [f.filename, f.url])).toEqual([['demo-1.6.tar.gz', 'https://pypi.org/simple/demo/demo-1.6.tar.gz']]);
  });

  it('resolves links against the page’s <base href>, and its off-host base drops them all', () => {
    const based = html(`<base href="/mirror/"><a href="demo+local-1.0.zip#sha256=${A}">x</a>`);
    expect(based.map((f) => f.url)).toEqual(['https://pypi.org/mirror/demo+local-1.0.zip']);
    expect(html(`<base href="https://evil.example/"><a href="demo-1.0.zip#sha256=${A}">x</a>`)).toEqual([]);
  });
});

describe('reading an upstream PEP 691 page', () => {
  it('keeps hashes, requires-python, yanks and core-metadata (or the older dist-info-metadata)', () => {
    const files = json([
      {
        filename: 'demo-1.0-py3-none-any.whl',
        url: '../../packages/demo-1.0-py3-none-any.whl#sha256=ignored',
        hashes: { sha256: A.toUpperCase(), md5: 'x' },
        'requires-python': '>=3.8',
        'core-metadata': { sha256: B },
        yanked: false,
      },
      {
        filename: 'demo-1.0.tar.gz',
        url: 'https://files.pythonhosted.org/d/demo-1.0.tar.gz',
        hashes: { sha256: B },
        'dist-info-metadata': { sha256: C },
        yanked: 'why',
      },
      { filename: 'demo-1.1.tar.gz', url: 'demo-1.1.tar.gz', hashes: { sha256: C }, 'core-metadata': true, yanked: true },
    ]);
    expect(files).toEqual([
      {
        filename: 'demo-1.0-py3-none-any.whl',
        url: 'https://pypi.org/packages/demo-1.0-py3-none-any.whl',
        sha256: A,
        version: '1.0',
        requiresPython: '>=3.8',
        coreMetadataSha256: B,
      },
      {
        filename: 'demo-1.0.tar.gz',
        url: 'https://files.pythonhosted.org/d/demo-1.0.tar.gz',
        sha256: B,
        version: '1.0',
        requiresPython: '',
        yanked: 'why',
        coreMetadataSha256: C,
      },
      {
        filename: 'demo-1.1.tar.gz',
        url: 'https://pypi.org/simple/demo/demo-1.1.tar.gz',
        sha256: C,
        version: '1.1',
        requiresPython: '',
        yanked: true,
      },
    ]);
  });

  it('drops entries without a sha256, off the allowed hosts, or malformed', () => {
    const files = json([
      { filename: 'demo-1.0.tar.gz', url: 'demo-1.0.tar.gz', hashes: { sha512: A + A } },
      { filename: 'demo-1.1.tar.gz', url: 'https://evil.example/demo-1.1.tar.gz', hashes: { sha256: A } },
      { filename: 'demo-1.2.tar.gz', hashes: { sha256: A } },
      { filename: '../demo-1.3.tar.gz', url: 'demo-1.3.tar.gz', hashes: { sha256: A } },
      'not an object',
      { filename: 'demo-1.4.tar.gz', url: 'demo-1.4.tar.gz', hashes: { sha256: A } },
    ]);
    expect(files.map((f) => f.filename)).toEqual(['demo-1.4.tar.gz']);
  });

  it('is chosen by the Content-Type; a JSON page that is not one is the upstream’s fault', () => {
    expect(json([], 'application/vnd.pypi.simple.v1+json; charset=utf-8')).toEqual([]);
    expect(() => parseUpstreamPage(Buffer.from('<html>'), 'application/vnd.pypi.simple.v1+json', PAGE, resolve)).toThrow(UpstreamPageError);
    expect(() => parseUpstreamPage(Buffer.from('{"files": 3}'), 'application/vnd.pypi.simple.v1+json', PAGE, resolve)).toThrow(
      'its project page has no "files" list',
    );
    // HTML whatever else it claims to be (a static tree, a proxy's text/plain).
    expect(parseUpstreamPage(Buffer.from(`<a href="demo-1.0.zip#sha256=${A}">x</a>`), null, PAGE, resolve)).toHaveLength(1);
  });
});
