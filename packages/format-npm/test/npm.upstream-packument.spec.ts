import { createHash } from 'node:crypto';

import { UpstreamError } from '@stowage/core';

import { declaredDigest, parseUpstreamPackument, rewritePackument, upstreamTarballs } from '../src/npm.upstream-packument';

const bytes = Buffer.from('a tarball');
const sha512hex = createHash('sha512').update(bytes).digest('hex');
const sha1hex = createHash('sha1').update(bytes).digest('hex');
const integrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
const REGISTRY = 'https://stowage.test/api/v4/groups/7/-/packages/npm';

const upstream = (versions: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ _id: '@acme/x', name: '@acme/x', 'dist-tags': { latest: '1.0.0' }, versions, ...extra }));

describe('npm packuments from an upstream', () => {
  it('takes the sha512 of the integrity string, else the sha1 shasum', () => {
    expect(declaredDigest({ integrity, shasum: sha1hex })).toEqual({ algorithm: 'sha512', hex: sha512hex });
    // Several hashes (SRI allows it): the sha512 one counts, options after `?` ignored.
    expect(declaredDigest({ integrity: `sha1-${Buffer.from(sha1hex, 'hex').toString('base64')} ${integrity}?opt` })).toEqual({
      algorithm: 'sha512',
      hex: sha512hex,
    });
    expect(declaredDigest({ integrity: 'sha512-short', shasum: sha1hex.toUpperCase() })).toEqual({ algorithm: 'sha1', hex: sha1hex });
    expect(declaredDigest({ integrity: 42, shasum: 'not hex' })).toBeNull();
    expect(declaredDigest({})).toBeNull();
  });

  it('refuses what is not a JSON object as the upstream failing (502), and drops versions (and their tags) nothing could install', () => {
    const failure = (body: string): unknown => {
      try {
        parseUpstreamPackument(Buffer.from(body), 'x');
        return null;
      } catch (err) {
        return err;
      }
    };
    for (const body of ['not json', '[1]', 'null']) {
      const err = failure(body);
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as UpstreamError).toHttpError().status).toBe(502);
    }
    const doc = parseUpstreamPackument(
      upstream(
        {
          '1.0.0': { dist: { tarball: 'a.tgz' } },
          '2.0.0': 'x',
          '3.0.0': { dist: null },
          '1.0.0/../../../../user': { dist: { tarball: 'b.tgz' } },
          v4: { dist: { tarball: 'c.tgz' } },
        },
        { 'dist-tags': { latest: 'v4', stable: '1.0.0', gone: '2.0.0' } },
      ),
      'x',
    );
    expect(Object.keys(doc.versions)).toEqual(['1.0.0']);
    expect(rewritePackument(doc, { name: 'x', registry: REGISTRY, variant: 'abbreviated' })['dist-tags']).toEqual({ stable: '1.0.0' });
    expect(parseUpstreamPackument(Buffer.from('{"name":"gone","time":{"unpublished":{}}}'), 'gone').versions).toEqual({});
  });

  it('lists each version’s upstream tarball link and digest', () => {
    const doc = parseUpstreamPackument(
      upstream({
        '1.0.0': { dist: { tarball: 'http://up.test/@acme/x/-/x-1.0.0.tgz', integrity, shasum: sha1hex } },
        '1.1.0': { dist: { tarball: 'x-1.1.0.tgz' } },
        '1.2.0': { dist: { shasum: sha1hex } },
      }),
      '@acme/x',
    );
    expect([...upstreamTarballs(doc)]).toEqual([
      ['1.0.0', { href: 'http://up.test/@acme/x/-/x-1.0.0.tgz', digest: { algorithm: 'sha512', hex: sha512hex } }],
      ['1.1.0', { href: 'x-1.1.0.tgz', digest: null }],
    ]);
  });

  it('points every tarball at the registry of the request’s scope and keeps what the upstream declared', () => {
    const doc = parseUpstreamPackument(
      upstream(
        {
          '1.0.0': {
            name: '@acme/x',
            version: '1.0.0',
            readme: 'long',
            scripts: { install: 'node-gyp rebuild' },
            dependencies: { y: '^1' },
            dist: { tarball: 'http://up.test/@acme/x/-/x-1.0.0.tgz', integrity, shasum: sha1hex, signatures: [{ keyid: 'k' }] },
          },
        },
        { readme: 'top', time: { modified: '2026-01-02T00:00:00.000Z', '1.0.0': '2026-01-01T00:00:00.000Z' } },
      ),
      '@acme/x',
    );
    const dist = { tarball: `${REGISTRY}/@acme/x/-/@acme/x-1.0.0.tgz`, integrity, shasum: sha1hex, signatures: [{ keyid: 'k' }] };
    const full = rewritePackument(doc, { name: '@acme/x', registry: REGISTRY, variant: 'full' });
    expect(full).toMatchObject({ _id: '@acme/x', readme: 'top', time: { '1.0.0': '2026-01-01T00:00:00.000Z' } });
    expect(full.versions).toEqual({
      '1.0.0': {
        name: '@acme/x',
        version: '1.0.0',
        readme: 'long',
        scripts: { install: 'node-gyp rebuild' },
        dependencies: { y: '^1' },
        dist,
      },
    });
    expect(rewritePackument(doc, { name: '@acme/x', registry: REGISTRY, variant: 'abbreviated' })).toEqual({
      name: '@acme/x',
      modified: '2026-01-02T00:00:00.000Z',
      'dist-tags': { latest: '1.0.0' },
      versions: { '1.0.0': { name: '@acme/x', version: '1.0.0', dependencies: { y: '^1' }, hasInstallScript: true, dist } },
    });
  });
});
