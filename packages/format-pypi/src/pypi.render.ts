import { versionRanks } from './pypi.naming';

/** One distribution file as the simple API shows it. */
export interface IndexFile {
  filename: string;
  /** Absolute download URL, without the hash fragment. */
  url: string;
  version: string;
  sha256: string;
  /** Not shown (PEP 691 v1.0 has neither): kept for a v1.1 page. */
  size?: number;
  uploadTime?: Date;
  requiresPython: string;
  /** sha256 of the PEP 658 metadata file, when one is served. */
  coreMetadataSha256?: string;
  /** PEP 592: true, or the reason. */
  yanked?: string | true;
}

export interface IndexProject {
  name: string;
  normalizedName: string;
  /** Absolute URL of the project page, ending in `/`. */
  url: string;
}

export type SimpleFormat = 'html' | 'json';

export const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
export const HTML_TYPE = 'text/html; charset=utf-8';

const ACCEPTABLE: Record<string, SimpleFormat> = {
  'application/vnd.pypi.simple.v1+json': 'json',
  'application/vnd.pypi.simple.latest+json': 'json',
  'application/vnd.pypi.simple.v1+html': 'html',
  'application/vnd.pypi.simple.latest+html': 'html',
  'text/html': 'html',
  'text/*': 'html',
  '*/*': 'html',
};

/**
 * PEP 691 content negotiation, honouring q-values: the acceptable type with the highest q
 * wins (JSON on a tie). No Accept header means HTML; nothing acceptable means null (406).
 */
export function negotiate(accept: string | undefined, userAgent?: string): SimpleFormat | null {
  if (!accept || !accept.trim()) return 'html';
  const chosen = bestFormat(accept);
  // pip before 23.3 reads only the pre-PEP 714 `dist-info-metadata` JSON key, as a string, and
  // crashes on the dict PEP 691 defines; it accepts HTML too, where it does use the metadata.
  if (chosen === 'json' && oldPip(userAgent) && bestFormat(accept.replace(/[^,]*\+json[^,]*/gi, '')) === 'html') return 'html';
  return chosen;
}

function oldPip(userAgent: string | undefined): boolean {
  const m = /^pip\/(\d+)\.(\d+)/.exec(userAgent ?? '');
  return Boolean(m) && (Number(m![1]) < 23 || (Number(m![1]) === 23 && Number(m![2]) < 3));
}

function bestFormat(accept: string): SimpleFormat | null {
  let best: { format: SimpleFormat; q: number } | null = null;
  for (const item of accept.split(',')) {
    const [type, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    const format = ACCEPTABLE[type];
    if (!format) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) continue;
    if (!best || q > best.q || (q === best.q && format === 'json' && best.format === 'html')) best = { format, q };
  }
  return best?.format ?? null;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string[]): string {
  const t = escapeHtml(title);
  return `<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.0">\n    <title>${t}</title>\n  </head>\n  <body>\n    <h1>${t}</h1>\n${body.join('')}  </body>\n</html>\n`;
}

/** Files in install order: by PEP 440 version, then file name. */
export function sortFiles(files: IndexFile[]): IndexFile[] {
  const ranks = versionRanks(files.map((f) => f.version));
  return [...files].sort(
    (a, b) => ranks.get(a.version)! - ranks.get(b.version)! || (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0),
  );
}

/** PEP 503 root index: one anchor per project. */
export function renderRootIndex(title: string, projects: IndexProject[], format: SimpleFormat): string {
  if (format === 'json') {
    return JSON.stringify({ meta: { 'api-version': '1.0' }, projects: projects.map((p) => ({ name: p.normalizedName })) });
  }
  return page(
    `Links for ${title}`,
    projects.map((p) => `    <a href="${escapeHtml(p.url)}">${escapeHtml(p.name)}</a><br>\n`),
  );
}

/** PEP 503 project page / PEP 691 project JSON, with PEP 592 yanks and PEP 658/714 metadata. */
export function renderProjectPage(name: string, files: IndexFile[], format: SimpleFormat): string {
  const sorted = sortFiles(files);
  if (format === 'json') {
    return JSON.stringify({
      meta: { 'api-version': '1.0' },
      name,
      files: sorted.map((f) => {
        const entry: Record<string, unknown> = { filename: f.filename, url: `${f.url}#sha256=${f.sha256}`, hashes: { sha256: f.sha256 } };
        if (f.requiresPython) entry['requires-python'] = f.requiresPython;
        if (f.coreMetadataSha256) entry['core-metadata'] = { sha256: f.coreMetadataSha256 };
        if (f.yanked !== undefined) entry.yanked = f.yanked;
        return entry;
      }),
    });
  }
  const anchors = sorted.map((f) => {
    let attrs = `href="${escapeHtml(`${f.url}#sha256=${f.sha256}`)}" data-requires-python="${escapeHtml(f.requiresPython)}"`;
    if (f.coreMetadataSha256) {
      const m = `sha256=${f.coreMetadataSha256}`;
      attrs += ` data-dist-info-metadata="${m}" data-core-metadata="${m}"`;
    }
    if (f.yanked !== undefined) attrs += ` data-yanked="${f.yanked === true ? '' : escapeHtml(f.yanked)}"`;
    return `    <a ${attrs}>${escapeHtml(f.filename)}</a><br>\n`;
  });
  return page(`Links for ${name}`, anchors);
}
