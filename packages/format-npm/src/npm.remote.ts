import { createHash } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import {
  fileSizeLimit,
  type FormatModuleOptions,
  type PackageScope,
  type RemoteDocument,
  RemoteDocuments,
  RemoteFiles,
  renderedDocument,
  RenderedDocuments,
  sendRendered,
  STALE_WARNING,
  type Upstream,
  UpstreamError,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { NpmFormatConfig } from './npm.config';
import { npmError, npmErrors } from './npm.errors';
import { packumentContentType, requestedVariant } from './npm.metadata';
import { NPM_OPTIONS } from './npm.module-definition';
import { encodedName, NPM, type NpmName, tarballFileName } from './npm.naming';
import {
  parseUpstreamPackument,
  rewritePackument,
  type UpstreamPackument,
  type UpstreamTarball,
  upstreamTarballs,
} from './npm.upstream-packument';

/** An upstream's failure in npm's error shape (`{"error": …}`, which npm prints): 502, 504 on a timeout, 404 for its 404. */
function npmUpstreamError(err: unknown): unknown {
  if (!(err instanceof UpstreamError)) return err;
  const http = err.toHttpError();
  if (http.status === 404) return npmErrors.notFound();
  return npmError(http.status, (http.body as { message: string }).message);
}

/** JSON.stringify recurses: a hostile upstream's deeply nested document is its failure, not ours. */
function serialize(json: unknown, pkg: NpmName): string {
  try {
    return JSON.stringify(json);
  } catch {
    throw new UpstreamError('invalid', `the packument of ${pkg.name} is nested too deeply`);
  }
}

/**
 * Names served from the upstream in cache mode: its packument, rewritten so that tarballs
 * come from Stowage at the request's scope and cached per revision of the stored upstream
 * document, and its tarballs, fetched once and verified against the digest the packument
 * declares for them. Callers decide first that the name may go upstream (`Upstreams.forName`).
 */
@Injectable()
export class NpmRemote {
  constructor(
    private readonly documents: RemoteDocuments,
    private readonly files: RemoteFiles,
    private readonly rendered: RenderedDocuments,
    @Inject(NPM_OPTIONS) private readonly options: FormatModuleOptions<NpmFormatConfig>,
  ) {}

  /**
   * The upstream's packument as stored (fetched or revalidated as its TTL says); 404 when the
   * upstream has no such name. With `unlessHeldIn`: null when someone in that scope holds the name.
   */
  private async packument(upstream: Upstream, pkg: NpmName, unlessHeldIn?: PackageScope): Promise<RemoteDocument | null> {
    const url = upstream.http.url(encodedName(pkg.name));
    const opts = { name: pkg.name, accept: 'application/json' };
    const doc = await (
      unlessHeldIn ? this.documents.getUnlessHeld(upstream, url, opts, unlessHeldIn) : this.documents.get(upstream, url, opts)
    ).catch((err) => {
      throw npmUpstreamError(err);
    });
    if (doc && !doc.found) throw npmErrors.notFound();
    return doc;
  }

  /**
   * Answers a packument request with the upstream's document; `registry` is the request
   * scope's registry URL. With `unlessHeldIn`, false (nothing sent) when someone in that scope
   * holds the name.
   */
  async sendPackument(
    upstream: Upstream,
    pkg: NpmName,
    registry: string,
    request: FastifyRequest,
    reply: FastifyReply,
    unlessHeldIn?: PackageScope,
  ): Promise<boolean> {
    const doc = await this.packument(upstream, pkg, unlessHeldIn);
    if (!doc) return false;
    const variant = requestedVariant(request);
    const key = `${NPM}\u0000upstream\u0000${variant}\u0000${registry}\u0000${pkg.name}`;
    const revision = `${doc.id}.${doc.revision}`;
    const rendered = await this.rendered
      .get(key, revision, async () => {
        const parsed = await this.parse(doc, pkg);
        // Its tarballs are asked for next: index them now, while the document is parsed.
        await this.tarballs(doc, pkg, parsed);
        const json = rewritePackument(parsed, { name: pkg.name, registry, variant });
        const etag = `"${createHash('sha1').update(`${key}\u0000${revision}`).digest('base64url')}"`;
        return renderedDocument(serialize(json, pkg), etag);
      })
      .catch((err) => {
        throw npmUpstreamError(err);
      });
    await sendRendered(request, reply, rendered, {
      contentType: packumentContentType(variant),
      vary: ['accept'],
      headers: doc.stale ? STALE_WARNING : undefined,
    });
    return true;
  }

  /** The tarballs a stored packument names, by version: once per revision of the document. */
  private tarballs(doc: RemoteDocument, pkg: NpmName, parsed?: UpstreamPackument): Promise<Map<string, UpstreamTarball>> {
    return this.rendered.get(
      `${NPM}\u0000upstream-tarballs\u0000${doc.id}`,
      doc.revision,
      async () => upstreamTarballs(parsed ?? (await this.parse(doc, pkg))),
      (index: Map<string, UpstreamTarball>) => index.size * 400,
    );
  }

  private async parse(doc: RemoteDocument, pkg: NpmName): Promise<UpstreamPackument> {
    return parseUpstreamPackument(await doc.body(), pkg.name);
  }

  /**
   * Answers a tarball request for a version the upstream's packument names, from the cache or
   * fetched once now. With `unlessHeldIn`, false (nothing sent) when someone in that scope
   * holds the name.
   */
  async sendTarball(
    upstream: Upstream,
    pkg: NpmName,
    version: string,
    request: FastifyRequest,
    reply: FastifyReply,
    unlessHeldIn?: PackageScope,
  ): Promise<boolean> {
    const fileName = tarballFileName(pkg.name, version);
    const sendOptions = { contentType: 'application/octet-stream' };
    const cached = await this.files.sendCached(
      request,
      reply,
      { format: NPM, name: pkg.name, version, fileName },
      sendOptions,
      unlessHeldIn,
    );
    if (cached !== 'absent') return cached === 'sent';
    const doc = (await this.packument(upstream, pkg))!;
    const tarball = (
      await this.tarballs(doc, pkg).catch((err) => {
        throw npmUpstreamError(err);
      })
    ).get(version);
    if (!tarball) throw npmErrors.notFound();
    const url = upstream.http.link(tarball.href, doc.url);
    try {
      if (!url)
        throw new UpstreamError('host', `the tarball of ${pkg.name}@${version} is on a host that is not configured (upstream.hosts)`);
      if (!tarball.digest) throw new UpstreamError('invalid', `the packument of ${pkg.name} declares no digest for ${version}`);
      await this.files.send(
        request,
        reply,
        {
          upstream,
          url,
          digest: tarball.digest,
          name: pkg.name,
          version,
          fileName,
          maxSize: fileSizeLimit(this.options.config),
          lookedUp: true,
        },
        sendOptions,
      );
      return true;
    } catch (err) {
      throw npmUpstreamError(err);
    }
  }
}
