import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { type HttpResult, rawHttp } from '@stowage/testkit';

// Replays the recorded Conan client flows (test/transcripts: real conan 1 and 2 sessions) against
// a running server: every request as the client sent it, every answer checked as the client
// needs it. Values that legitimately differ (tokens, times, URLs, binary bytes) are compared by
// the relation the client relies on.

export const TRANSCRIPTS = process.env.CONAN_TRANSCRIPTS ?? join(__dirname, 'transcripts');

interface Body {
  size: number;
  sha256?: string;
  sha1?: string;
  md5?: string;
  text?: string;
  text_redacted?: boolean;
}

export interface Exchange {
  type: 'exchange';
  seq: number;
  method: string;
  path: string;
  request_headers: [string, string][];
  request_body: Body;
  status: number;
  response_headers: [string, string][];
  response_body: Body;
  /** probes part A: what the client received after the proxy's rewrite. */
  sent_response_body?: Body;
}
export interface Mark {
  type: 'mark';
  seq: number;
  label: string;
}

export function loadTranscript(file: string): (Exchange | Mark)[] {
  return readFileSync(join(TRANSCRIPTS, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

const hash = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');

/**
 * A stand-in for a recorded .tgz: a valid gzipped (empty) tar, since the server reads uploaded
 * archives through, of exactly the recorded size, distinct per recorded file (the gzip header's
 * comment field carries the filler).
 */
function standInTgz(seed: string, size: number): Buffer {
  const gz = gzipSync(Buffer.alloc(1024));
  const fill = size - gz.length - 1;
  if (fill < 0) throw new Error(`no .tgz stand-in of ${size} bytes`);
  let comment = '';
  for (let i = 0; comment.length < fill; i++) comment += hash('sha256', Buffer.from(`${seed}:${i}`));
  const header = Buffer.from(gz.subarray(0, 10));
  header[3] |= 0x10; // FCOMMENT
  return Buffer.concat([header, Buffer.from(comment.slice(0, fill), 'latin1'), Buffer.from([0]), gz.subarray(10)]);
}
const header = (h: [string, string][], name: string) => h.find(([k]) => k.toLowerCase() === name)?.[1];

/** One request with the path exactly as given, on a connection of its own; an empty body is sent as none. */
export function send(base: string, method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<HttpResult> {
  return rawHttp(base, { method, path, headers, body: body.length ? body : undefined });
}

/** Keys our answers may carry beyond the reference server's (GitLab's additions). */
const EXTRA_KEYS = new Set(['reference', 'requires']);

export interface ReplayOptions {
  /** http://127.0.0.1:PORT */
  server: string;
  /** What `{BASE}` becomes: `/api/v4/projects/12/packages/conan`. */
  base: string;
  username: string;
  password: string;
  /** Capabilities the client needs in the ping answer (Conan 2 and revisions: `revisions`). */
  capabilities?: string[];
  /** Rewrites a transcript path fragment (instance scope: the recipe user). */
  rewritePath?: (path: string) => string;
  /** Rewrites expected strings the same way (search results, references). */
  rewriteText?: (text: string) => string;
}

/** Failures are collected per exchange so that one run reports every mismatch. */
export class Replay {
  readonly problems: string[] = [];
  private bearer: string | undefined;
  /** Our bytes for each recorded file, by the recorded sha256 / sha1 / md5. */
  private readonly bytes = new Map<string, Buffer>();
  /** File URLs our server handed out (path without query), as the client would use them. */
  private readonly handedOut = new Set<string>();
  /** sha1 of the bytes last stored at each file path (to know what a checksum probe must answer). */
  private readonly stored = new Map<string, string>();
  exchanges = 0;

  constructor(private readonly o: ReplayOptions) {}

  private ours(b: Body): Buffer {
    if (!b.size) return Buffer.alloc(0);
    const known = b.sha256 && this.bytes.get(b.sha256);
    if (known) return known;
    let out: Buffer;
    if (b.text !== undefined && !b.text_redacted) out = Buffer.from(b.text, 'utf8');
    else out = standInTgz(String(b.sha256), b.size); // binary (tgz) bodies are not in the recording
    for (const k of [b.sha256, b.sha1, b.md5]) if (k) this.bytes.set(k, out);
    return out;
  }

  private path(p: string): string {
    let path = p.replace('{BASE}', this.o.base);
    // The reference server pre-signs its file URLs; ours are plain (GitLab's shape).
    path = path.replace(/([?&])signature=[^&]*(&|$)/, (_m, a, b) => (b ? a : '')).replace(/\?$/, '');
    return this.o.rewritePath ? this.o.rewritePath(path) : path;
  }

  private fail(ex: Exchange, what: string) {
    this.problems.push(`#${ex.seq} ${ex.method} ${ex.path}: ${what}`);
  }

  async run(entries: (Exchange | Mark)[]): Promise<void> {
    for (const e of entries) if (e.type === 'exchange') await this.exchange(e);
  }

  /** Replays up to (not including) the first mark whose label starts with `label`; returns the rest. */
  async runUntil(entries: (Exchange | Mark)[], label: string): Promise<(Exchange | Mark)[]> {
    const stop = entries.findIndex((e) => e.type === 'mark' && e.label.startsWith(label));
    if (stop < 0) throw new Error(`no step "${label}" in the transcript`);
    await this.run(entries.slice(0, stop));
    return entries.slice(stop);
  }

  async exchange(ex: Exchange): Promise<HttpResult> {
    this.exchanges++;
    const path = this.path(ex.path);
    const body = this.ours(ex.request_body);
    const headers: Record<string, string> = {};
    for (const [k, v] of ex.request_headers) {
      const name = k.toLowerCase();
      if (['host', 'connection', 'content-length', 'accept-encoding'].includes(name)) continue;
      if (name === 'authorization') {
        if (v.startsWith('Basic')) headers[name] = `Basic ${Buffer.from(`${this.o.username}:${this.o.password}`).toString('base64')}`;
        else if (this.bearer) headers[name] = `Bearer ${this.bearer}`;
        continue;
      }
      if (name === 'x-checksum-sha1') {
        // The probe announces the sha1 of the file it is about to send: ours for those bytes.
        const file = body.length ? body : this.bytes.get(v);
        headers[name] = file ? hash('sha1', file) : v;
        continue;
      }
      headers[k] = v;
    }
    const isFile = /\/v1\/files\/|\/files\/[^/]+$/.test(path);
    const signedInRecording = /[?&]signature=/.test(ex.path);
    // Conan 1 sends its token to same-server URLs without a signature: all of ours.
    if (isFile && signedInRecording && !headers.authorization && this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    if (path.includes('/v1/files/') && !this.handedOut.has(path))
      this.fail(ex, 'file URL was not handed out by upload_urls/download_urls/digest');
    headers['content-length'] = String(body.length);

    let res = await send(this.o.server, ex.method, path, headers, body);
    // With object storage a download redirects to a presigned URL, which Conan's requests
    // follows to the other host without the Authorization header.
    const location = res.headers.location;
    if (
      ex.method === 'GET' &&
      res.status === 302 &&
      ex.status === 200 &&
      location &&
      new URL(location, this.o.server).origin !== new URL(this.o.server).origin
    ) {
      const target = new URL(location);
      const { authorization: _auth, ...rest } = headers;
      res = await send(target.origin, 'GET', target.pathname + target.search, rest, Buffer.alloc(0));
    }
    if (ex.method === 'PUT' && !body.length) this.checkProbe(ex, path, headers['x-checksum-sha1'] ?? headers['X-Checksum-Sha1'], res);
    else this.check(ex, res);
    if (ex.method === 'PUT' && body.length && res.status === 200) this.stored.set(path, hash('sha1', body));
    return res;
  }

  /**
   * A checksum-deploy probe (empty PUT): 201 means "already stored, skip" and is right only
   * when exactly those bytes are stored at that path; otherwise any answer that makes the
   * client upload (200, 404), never 400/401/403/5xx, which abort.
   */
  private checkProbe(ex: Exchange, path: string, sha1: string | undefined, res: HttpResult): void {
    const present = sha1 !== undefined && this.stored.get(path) === sha1;
    if (present && res.status !== 201) this.fail(ex, `probe for a stored file answered ${res.status}, not 201`);
    if (!present && res.status !== 200 && res.status !== 404)
      this.fail(ex, `probe for a new file answered ${res.status}: the client would not upload`);
  }

  private check(ex: Exchange, res: HttpResult): void {
    const expectedType = header(ex.response_headers, 'content-type');
    if (res.status !== ex.status) {
      this.fail(ex, `status ${res.status}, client expects ${ex.status} (${res.body.toString('utf8').slice(0, 200)})`);
      return;
    }
    if (ex.path.endsWith('/v1/ping')) {
      const caps = res.headers['x-conan-server-capabilities'];
      if (caps === undefined) this.fail(ex, 'no X-Conan-Server-Capabilities header');
      const have = String(caps ?? '')
        .split(',')
        .map((c) => c.trim());
      for (const c of this.o.capabilities ?? []) if (!have.includes(c)) this.fail(ex, `capabilities "${caps}" lack ${c}`);
      return;
    }
    if (ex.status >= 300) return; // the client reads only the status of failures
    const received = ex.sent_response_body ?? ex.response_body;
    if (/users\/authenticate$/.test(ex.path)) {
      const token = res.body.toString('utf8');
      if (!token || /\s|"/.test(token)) this.fail(ex, `token body must be the bare token, got ${JSON.stringify(token)}`);
      if (!String(res.headers['content-type']).startsWith('text/plain')) this.fail(ex, `token content-type ${res.headers['content-type']}`);
      this.bearer = token;
      return;
    }
    if (expectedType === 'application/json') {
      if (res.headers['content-type'] !== 'application/json')
        this.fail(ex, `content-type "${res.headers['content-type']}" is not exactly application/json`);
      let actual: unknown;
      try {
        actual = JSON.parse(res.body.toString('utf8'));
      } catch {
        return this.fail(ex, 'body is not JSON');
      }
      if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return this.fail(ex, 'JSON body is not an object');
      const expected = JSON.parse(this.o.rewriteText ? this.o.rewriteText(received.text!) : received.text!);
      this.compare(ex, expected, actual, '$');
      return;
    }
    if (ex.method === 'GET' && /\/files\//.test(ex.path) && received.sha256) {
      const want = this.bytes.get(received.sha256);
      if (!want) this.fail(ex, 'downloaded a file the replay never uploaded');
      else if (!res.body.equals(want)) this.fail(ex, `downloaded ${res.body.length} bytes that differ from the uploaded ${want.length}`);
    }
  }

  private compare(ex: Exchange, expected: unknown, actual: unknown, at: string): void {
    if (typeof expected === 'string') {
      if (typeof actual !== 'string') return this.fail(ex, `${at}: expected a string, got ${JSON.stringify(actual)}`);
      if (expected.startsWith('{BASE}')) {
        // A file URL: absolute, on our server, the GitLab-shaped path of the same file.
        const want = `${this.o.server}${this.path(expected)}`;
        if (actual !== want) return this.fail(ex, `${at}: URL ${actual}, expected ${want}`);
        this.handedOut.add(this.path(expected));
        return;
      }
      if (/^\d{4}-\d\d-\d\dT/.test(expected)) {
        if (Number.isNaN(Date.parse(actual))) this.fail(ex, `${at}: not a time: ${actual}`);
        return;
      }
      if (at.endsWith('.content')) return;
      const file = /^[0-9a-f]{32}$/.test(expected) ? this.bytes.get(expected) : undefined;
      if (file) {
        // A snapshot value: the md5 of the bytes we uploaded under that name.
        if (actual !== hash('md5', file)) this.fail(ex, `${at}: md5 ${actual}, uploaded ${hash('md5', file)}`);
        return;
      }
      if (actual !== expected) this.fail(ex, `${at}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
      return;
    }
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual) || actual.length !== expected.length)
        return this.fail(ex, `${at}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
      expected.forEach((e, i) => this.compare(ex, e, actual[i], `${at}[${i}]`));
      return;
    }
    if (expected && typeof expected === 'object') {
      if (!actual || typeof actual !== 'object' || Array.isArray(actual))
        return this.fail(ex, `${at}: expected an object, got ${JSON.stringify(actual)}`);
      const a = actual as Record<string, unknown>;
      for (const [k, v] of Object.entries(expected)) {
        if (!(k in a)) this.fail(ex, `${at}: missing key ${k}`);
        else this.compare(ex, v, a[k], `${at}.${k}`);
      }
      for (const k of Object.keys(a)) if (!(k in expected) && !EXTRA_KEYS.has(k)) this.fail(ex, `${at}: unexpected key ${k}`);
      return;
    }
    if (actual !== expected) this.fail(ex, `${at}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}
