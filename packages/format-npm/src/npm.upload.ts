import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';
import { FormatUploads, isJsonObject, type Package, type ProjectContext, scanTar, TarError } from '@stowage/core';

import type { NpmFormatConfig } from './npm.config';
import { npmErrors } from './npm.errors';
import { MAX_MANIFEST_CHARS, publishedReadme, storedManifest } from './npm.manifest';
import { NPM_OPTIONS } from './npm.module-definition';
import { assertTagName, assertVersion, NPM, type NpmName, tarballFileName } from './npm.naming';

const duplicate = () => npmErrors.forbidden('Package already exists.');

interface Attachment {
  bytes: Buffer;
  sha1: string;
  sha512: string;
}

function decodeAttachment(body: Record<string, unknown>, fileName: string): Attachment {
  const attachments = isJsonObject(body._attachments) ? body._attachments : {};
  const entry = attachments[fileName];
  const data = isJsonObject(entry) ? entry.data : undefined;
  if (typeof data !== 'string' || !data) throw npmErrors.badRequest('Attachment data is empty.');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw npmErrors.badRequest('Attachment data is not valid base64.');
  const bytes = Buffer.from(data, 'base64');
  if (isJsonObject(entry) && typeof entry.length === 'number' && entry.length !== bytes.length) {
    throw npmErrors.badRequest(`Attachment length ${entry.length} does not match its data (${bytes.length} bytes).`);
  }
  return {
    bytes,
    sha1: createHash('sha1').update(bytes).digest('hex'),
    sha512: createHash('sha512').update(bytes).digest('base64'),
  };
}

/** The client's `dist.shasum` and `dist.integrity`, if sent, must describe the bytes it sent. */
function checkDigests(dist: unknown, a: Attachment): void {
  if (!isJsonObject(dist)) return;
  if (typeof dist.shasum === 'string' && dist.shasum.toLowerCase() !== a.sha1) {
    throw npmErrors.badRequest('shasum in the request does not match the tarball.');
  }
  if (typeof dist.integrity === 'string') {
    const ours: Record<string, string> = { sha1: Buffer.from(a.sha1, 'hex').toString('base64'), sha512: a.sha512 };
    const known = dist.integrity
      .split(/\s+/)
      .filter(Boolean)
      .map((sri) => sri.split('-', 2) as [string, string])
      .filter(([alg]) => alg in ours);
    if (known.some(([alg, digest]) => ours[alg] !== digest.split('?')[0])) {
      throw npmErrors.badRequest('integrity in the request does not match the tarball.');
    }
  }
}

/**
 * `npm publish`: one version, its tarball inside the JSON body. Everything is checked before
 * any byte is stored (names, version, digests computed here, the tarball's own package.json),
 * then the tarball goes through FileStorage and the version, file and dist-tag are written
 * in one transaction that refuses a version the project already has.
 */
@Injectable()
export class NpmUploads extends FormatUploads<NpmFormatConfig>(NPM_OPTIONS) {
  protected override tooLarge() {
    return npmErrors.badRequest('File is too large.');
  }

  /** `publisher` is recorded as the version's `_npmUser`, as the public registry does. */
  async publish(ctx: ProjectContext, target: NpmName, body: Record<string, unknown>, publisher?: string): Promise<Package> {
    if (body.name !== target.name)
      throw npmErrors.badRequest(`Package name in the body (${String(body.name)}) does not match the URL (${target.name}).`);
    const versions = isJsonObject(body.versions) ? body.versions : {};
    const version = Object.keys(versions)[0];
    assertVersion(version);
    if (Object.keys(versions).length > 1) throw npmErrors.badRequest('Publish one version at a time.');
    const manifest = versions[version];
    if (!isJsonObject(manifest) || manifest.name !== target.name || manifest.version !== version) {
      throw npmErrors.badRequest('versions must hold the manifest of the published name and version.');
    }
    const tags = isJsonObject(body['dist-tags']) ? body['dist-tags'] : {};
    const tag = Object.keys(tags)[0] ?? 'latest';
    assertTagName(tag);
    if (tags[tag] !== undefined && tags[tag] !== version) throw npmErrors.badRequest(`dist-tags.${tag} must be the published version.`);

    const stored = storedManifest(manifest);
    if (publisher) stored._npmUser = { name: publisher };
    if (JSON.stringify(stored).length >= MAX_MANIFEST_CHARS) {
      throw npmErrors.badRequest(
        `Validation failed: Package json structure is too large. Maximum size is ${MAX_MANIFEST_CHARS} characters`,
      );
    }
    // After the size check, which is GitLab's rule for the package.json alone.
    const readme = publishedReadme(body, manifest);
    if (readme) stored.readme = readme;
    const fileName = tarballFileName(target.name, version);
    const attachment = decodeAttachment(body, fileName);
    if (attachment.bytes.length > this.maxSize) throw this.tooLarge();
    checkDigests(manifest.dist, attachment);
    // The cheap refusal first: a version already published costs no inflation.
    const ref = { projectId: ctx.project.id, packageType: NPM, name: target.name, version };
    const duplicates = await this.packages.checkDuplicate(ctx, {
      ...ref,
      conflicts: 'version',
      allowedBy: 'never',
      refuse: duplicate,
      refuseProtected: npmErrors.protected,
    });
    await this.checkTarball(attachment.bytes, target.name, version);

    const blob = await this.store(Readable.from([attachment.bytes]), { size: attachment.bytes.length });
    return this.packages.write(
      async (w) => {
        const { pkg } = await w.upsertPackage({ ...ref, status: 'default', metadata: stored, duplicates });
        await w.addFile(pkg, { fileName, blob });
        await w.setTag(pkg, tag);
        return pkg;
      },
      { blobs: [blob] },
    );
  }

  private async checkTarball(bytes: Buffer, name: string, version: string): Promise<void> {
    const inner = await readTarballManifest(bytes, this.config.max_unpacked_size).catch((err) => {
      throw err instanceof TarError ? npmErrors.badRequest(`Invalid tarball: ${err.message}.`) : err;
    });
    if (inner.name !== name || inner.version !== version) {
      throw npmErrors.badRequest(
        `package.json in the tarball (${String(inner.name)}@${String(inner.version)}) does not match ${name}@${version}.`,
      );
    }
  }
}

/** A package.json bigger than this is not one npm would have packed. */
const MAX_MANIFEST_BYTES = 1024 ** 2;

/** The package.json npm reads: the one right under the tarball's top directory (`package/`). */
const isManifest = (path: string) => {
  const parts = path.split('/');
  return parts.length === 2 && parts[1] === 'package.json';
};

/**
 * `package/package.json` of a gzipped tarball, read through by core's tar reader, which refuses
 * entries npm could not unpack safely and stops a tarball expanding beyond `maxUnpackedSize`.
 * npm drops the top directory's name, so two manifests under two top directories would be one
 * file on disk, the last one winning: refused too.
 */
export async function readTarballManifest(tgz: Buffer, maxUnpackedSize: number): Promise<Record<string, unknown>> {
  const manifests = await scanTar(tgz, { keep: isManifest, maxKeptSize: MAX_MANIFEST_BYTES, maxUnpackedSize });
  if (manifests.length > 1) throw new TarError(`the tarball holds more than one package.json (${manifests.map((m) => m.path).join(', ')})`);
  const entry = manifests[0];
  if (!entry) throw new TarError('the tarball has no package/package.json');
  try {
    const json: unknown = JSON.parse(entry.data.toString('utf8'));
    if (isJsonObject(json)) return json;
  } catch {
    // reported below
  }
  throw new TarError('package.json in the tarball is not a JSON object');
}
