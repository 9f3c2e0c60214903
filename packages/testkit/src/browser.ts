import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser, LaunchOptions, Page } from 'playwright-core';

// Browser tests drive Debian's chromium (apt `chromium`, scripts/install-clients.sh) through
// playwright-core: no browser download, the same binary on every machine.

const REPO_ROOT = join(__dirname, '..', '..', '..');
const WEB_DIR = join(REPO_ROOT, 'packages', 'web');

export const CHROMIUM_PATH = process.env.STOWAGE_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where tests leave screenshots for people to look at (gitignored). */
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-artifacts', 'screenshots');

const CHROMIUM_ARGS = [
  // Root (CI) cannot use chromium's sandbox.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless chromium; close it in afterAll. */
export async function launchBrowser(opts: LaunchOptions = {}): Promise<Browser> {
  // Loaded here, so test files that never open a browser do not load playwright.
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, ...opts, args: [...CHROMIUM_ARGS, ...(opts.args ?? [])] });
}

/** Saves a PNG of `page` as test-artifacts/screenshots/<name>.png; returns its path. */
export async function saveScreenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? true, animations: 'disabled' });
  return path;
}

function newestMtime(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newestMtime(join(path, n))));
}

function builtAt(): number {
  try {
    return statSync(join(WEB_DIR, 'dist', 'index.html')).mtimeMs;
  } catch {
    return 0;
  }
}

function isStale(): boolean {
  const sources = ['src', 'index.html', 'vite.config.mts', 'package.json'].map((p) => newestMtime(join(WEB_DIR, p)));
  return builtAt() < Math.max(...sources);
}

/**
 * Builds packages/web (vite build) when dist/ is missing or older than its sources: a test
 * server sends what dist/ held when it started. Test files in parallel build once (a lock
 * directory); the new build replaces dist/ by a rename, so a server starting meanwhile reads
 * the old build or the new one, never half of one.
 */
export async function ensureWebBuilt(): Promise<void> {
  if (!isStale()) return;
  const lock = join(WEB_DIR, '.build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than two minutes belongs to a run that died.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`ensureWebBuilt: ${lock} held for two minutes`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (!isStale()) return;
    const out = join(WEB_DIR, `.dist-${process.pid}`);
    rmSync(out, { recursive: true, force: true });
    const vite = join(WEB_DIR, 'node_modules', 'vite', 'bin', 'vite.js');
    const res = spawnSync(process.execPath, [vite, 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: WEB_DIR,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '', VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
    });
    if (res.status !== 0) {
      rmSync(out, { recursive: true, force: true });
      throw new Error(`vite build failed (${res.status}): ${res.stderr || res.stdout}`);
    }
    const dist = join(WEB_DIR, 'dist');
    const old = join(WEB_DIR, `.dist-old-${process.pid}`);
    try {
      renameSync(dist, old);
    } catch {
      // no earlier build
    }
    renameSync(out, dist);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
