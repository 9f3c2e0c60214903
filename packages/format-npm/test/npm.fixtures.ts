import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { buildTar } from '@stowage/testkit';

/** A gzipped ustar archive, laid out as npm packs one (`package/...`). */
export const tarball = (files: Record<string, string | Buffer>): Buffer => buildTar(files);

export function packageTarball(manifest: Record<string, unknown>, extra: Record<string, string | Buffer> = {}): Buffer {
  return tarball({
    'package/package.json': JSON.stringify(manifest),
    'package/index.js': `// ${manifest.name}@${manifest.version}\n`,
    ...extra,
  });
}

export const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
export const sha512 = (b: Buffer) => `sha512-${createHash('sha512').update(b).digest('base64')}`;

/** The JSON body `npm publish` sends, with parts replaceable to make bad input. */
export function publishBody(
  name: string,
  version: string,
  opts: {
    tgz?: Buffer;
    manifest?: Record<string, unknown>;
    tag?: string;
    dist?: Record<string, unknown>;
    attachmentName?: string;
    data?: string;
  } = {},
) {
  const manifest = { name, version, ...(opts.manifest ?? {}) };
  const tgz = opts.tgz ?? packageTarball(manifest);
  const fileName = opts.attachmentName ?? `${name}-${version}.tgz`;
  return {
    _id: name,
    name,
    'dist-tags': { [opts.tag ?? 'latest']: version },
    versions: {
      [version]: {
        ...manifest,
        _id: `${name}@${version}`,
        dist: { shasum: sha1(tgz), integrity: sha512(tgz), tarball: `http://x/${fileName}`, ...(opts.dist ?? {}) },
      },
    },
    _attachments: {
      [fileName]: { content_type: 'application/octet-stream', data: opts.data ?? tgz.toString('base64'), length: tgz.length },
    },
  };
}

/** Every file under a directory (blob storage), to prove a refused upload left nothing behind. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  await walk(dir);
  return out;
}

/**
 * Publishes a small package to a registry that takes anonymous publishes (Verdaccio in the
 * tests), with the body npm sends; returns its tarball and integrity.
 */
export async function publishTo(
  registry: string,
  name: string,
  version: string,
  extra: Record<string, string | Buffer> = {},
): Promise<{ tgz: Buffer; integrity: string }> {
  const tgz = packageTarball({ name, version }, extra);
  const res = await fetch(`${registry.replace(/\/$/, '')}/${name.replace('/', '%2f')}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: 'Bearer anonymous' },
    body: JSON.stringify(publishBody(name, version, { tgz })),
  });
  if (!res.ok) throw new Error(`publishing ${name}@${version} to ${registry}: ${res.status} ${await res.text()}`);
  return { tgz, integrity: sha512(tgz) };
}
