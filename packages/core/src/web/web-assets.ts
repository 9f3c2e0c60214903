import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative } from 'node:path';

import { type RenderedDocument, renderedDocument } from '../rendering/rendered-document';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export interface WebAsset {
  doc: RenderedDocument;
  contentType: string;
}

/** Where `@stowage/web` built the UI; null when it is not installed. */
export function defaultWebRoot(): string | null {
  try {
    return (createRequire(__filename)('@stowage/web/index.cjs') as { webRoot: string }).webRoot;
  } catch {
    return null;
  }
}

/**
 * The built UI, read once: a few small files, so kept in memory with their ETags and
 * compressed variants (sendRendered). Only files found here are ever sent: no request path
 * reaches the file system.
 */
export class WebAssets {
  readonly index: WebAsset | null;
  private readonly assets = new Map<string, WebAsset>();

  constructor(root: string | null) {
    let index: WebAsset | null = null;
    if (root) {
      for (const file of walk(root)) {
        const name = relative(root, file).split('\\').join('/');
        const asset = {
          doc: renderedDocument(readFileSync(file)),
          contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        };
        if (name === 'index.html') index = asset;
        else if (name.startsWith('assets/')) this.assets.set(name.slice('assets/'.length), asset);
      }
    }
    this.index = index;
  }

  asset(name: string): WebAsset | undefined {
    return this.assets.get(name);
  }
}

function walk(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
