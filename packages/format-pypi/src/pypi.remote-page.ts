import { isJsonObject } from '@stowage/core';
import { Parser } from 'htmlparser2';

import { parseDistFilename } from './pypi.naming';

/** One distribution file an upstream's project page links, as Stowage may serve it. */
export interface UpstreamFile {
  filename: string;
  /** Absolute, on an allowed host, without the fragment. */
  url: string;
  /** Lower-case hex: what the file is verified against. */
  sha256: string;
  version: string;
  requiresPython: string;
  /** PEP 592: true, or the reason. */
  yanked?: string | true;
  /** PEP 658/714: the sha256 of `<url>.metadata`, when the upstream declares one. */
  coreMetadataSha256?: string;
}

/** Resolves a link of the page against a base and returns null when it leads off the allowed hosts (core's `UpstreamHttp.link`). */
export type LinkResolver = (href: string, from: string) => string | null;

export class UpstreamPageError extends Error {}

const SHA256 = /^[0-9a-f]{64}$/i;
// The archive kinds pip installs from an index; anything else (.exe, .egg, .msi) is left out.
const DIST_FILE = /^[A-Za-z0-9][A-Za-z0-9._+!-]*\.(whl|tar\.gz|zip|tar\.bz2|tar\.xz|tgz|tbz|tar)$/;
const MAX_FILENAME = 255;

/** `sha256=<hex>` (a PEP 503 URL fragment, a PEP 658 attribute value), lower-cased; anything else is null. */
function sha256Of(value: string | undefined): string | undefined {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(value ?? '');
  return m ? m[1].toLowerCase() : undefined;
}

interface Candidate {
  filename: string;
  url: string;
  sha256: string | undefined;
  requiresPython: string;
  yanked?: string | true;
  coreMetadataSha256?: string;
}

/**
 * Keeps the files Stowage can serve: a distribution archive with a safe name (it becomes part
 * of Stowage's URL) and a declared sha256, since a file is cached only once verified against
 * its upstream's digest. The first link of a name wins, as its URL is where Stowage fetches it.
 */
function servable(candidates: Candidate[]): UpstreamFile[] {
  const out = new Map<string, UpstreamFile>();
  for (const c of candidates) {
    if (!c.sha256 || c.filename.length > MAX_FILENAME || !DIST_FILE.test(c.filename) || out.has(c.filename)) continue;
    const file: UpstreamFile = {
      filename: c.filename,
      url: c.url,
      sha256: c.sha256,
      version: parseDistFilename(c.filename)?.version ?? '',
      requiresPython: c.requiresPython,
    };
    if (c.yanked !== undefined) file.yanked = c.yanked;
    if (c.coreMetadataSha256) file.coreMetadataSha256 = c.coreMetadataSha256;
    out.set(c.filename, file);
  }
  return [...out.values()];
}

/** The URL without its fragment, and its last path segment decoded (null when it does not decode). */
function splitLink(url: string): { url: string; fragment: string; filename: string | null } {
  const u = new URL(url);
  const fragment = u.hash.slice(1);
  u.hash = '';
  const last = u.pathname.slice(u.pathname.lastIndexOf('/') + 1);
  let filename: string | null;
  try {
    filename = decodeURIComponent(last);
  } catch {
    filename = null;
  }
  return { url: u.toString(), fragment, filename };
}

/**
 * A PEP 503 project page, read with htmlparser2 (entities decoded, tolerant of what browsers
 * tolerate): every `<a href>` resolved against the page's `<base href>` or its own URL.
 */
export function parseHtmlPage(html: string, pageUrl: string, resolve: LinkResolver): UpstreamFile[] {
  const anchors: Record<string, string>[] = [];
  let base: string | undefined;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (name === 'base' && base === undefined && attribs.href !== undefined) base = attribs.href;
        else if (name === 'a' && attribs.href !== undefined) anchors.push(attribs);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  let from = pageUrl;
  if (base !== undefined) {
    try {
      from = new URL(base, pageUrl).toString();
    } catch {
      // An unusable <base> is ignored, as a browser does.
    }
  }
  const candidates: Candidate[] = [];
  for (const a of anchors) {
    const url = resolve(a.href, from);
    if (!url) continue;
    const link = splitLink(url);
    if (!link.filename) continue;
    const c: Candidate = {
      filename: link.filename,
      url: link.url,
      sha256: sha256Of(link.fragment),
      requiresPython: a['data-requires-python'] ?? '',
    };
    if ('data-yanked' in a) c.yanked = a['data-yanked'] || true;
    const metadata = sha256Of(a['data-core-metadata'] ?? a['data-dist-info-metadata']);
    if (metadata) c.coreMetadataSha256 = metadata;
    candidates.push(c);
  }
  return servable(candidates);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A PEP 691 project page (`application/vnd.pypi.simple.v1+json`); file URLs resolve against the page's. */
export function parseJsonPage(json: string, pageUrl: string, resolve: LinkResolver): UpstreamFile[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new UpstreamPageError('its project page is not valid JSON');
  }
  if (!isJsonObject(doc) || !Array.isArray(doc.files)) throw new UpstreamPageError('its project page has no "files" list');
  const candidates: Candidate[] = [];
  for (const f of doc.files) {
    if (!isJsonObject(f)) continue;
    const filename = str(f.filename);
    const href = str(f.url);
    if (!filename || href === undefined) continue;
    const url = resolve(href, pageUrl);
    if (!url) continue;
    const hashes = isJsonObject(f.hashes) ? f.hashes : {};
    const declared = str(hashes.sha256);
    const c: Candidate = {
      filename,
      url: splitLink(url).url,
      sha256: declared && SHA256.test(declared) ? declared.toLowerCase() : undefined,
      requiresPython: str(f['requires-python']) ?? '',
    };
    // PEP 691: a non-empty string is the reason, true is yanked without one.
    if (f.yanked === true || (typeof f.yanked === 'string' && f.yanked !== '')) c.yanked = f.yanked;
    const metadata = f['core-metadata'] ?? f['dist-info-metadata'];
    const metadataSha = isJsonObject(metadata) ? str(metadata.sha256) : undefined;
    if (metadataSha && SHA256.test(metadataSha)) c.coreMetadataSha256 = metadataSha.toLowerCase();
    candidates.push(c);
  }
  return servable(candidates);
}

/** An upstream project page by its Content-Type: PEP 691 JSON, or HTML (PEP 503, what a static tree serves). */
export function parseUpstreamPage(body: Buffer, contentType: string | null, pageUrl: string, resolve: LinkResolver): UpstreamFile[] {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const text = body.toString('utf8');
  return /^application\/vnd\.pypi\.simple\.(v1|latest)\+json$/.test(type) || type === 'application/json'
    ? parseJsonPage(text, pageUrl, resolve)
    : parseHtmlPage(text, pageUrl, resolve);
}
