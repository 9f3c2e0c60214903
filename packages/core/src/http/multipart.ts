import { Readable } from 'node:stream';

/**
 * A streaming multipart/form-data parser (RFC 7578). Text fields are collected (capped);
 * a file part is handed over as a Readable that pulls straight from the request, so a file
 * is never buffered: pipe it into FileStorage.store() before asking for the next part.
 *
 *   for await (const part of parseMultipart(requestStream(req), contentType)) {
 *     if (part.kind === 'file') blob = await storage.store(part.stream);
 *     else fields.push(part);
 *   }
 *
 * Malformed bodies, a missing boundary and exceeded limits raise MultipartError (from the
 * iterator, and through the file stream when the body breaks inside a file).
 */

export interface MultipartLimits {
  /** Text fields in the body (default 1000). */
  maxFields?: number;
  /** Bytes of one text field (default 1 MiB). */
  maxFieldSize?: number;
  /** Bytes of all text fields together (default 8 MiB). */
  maxFieldsSize?: number;
  /** File parts in the body (default 10). */
  maxFiles?: number;
  /** Bytes of one part's header block (default 16 KiB). */
  maxHeaderSize?: number;
}

export type MultipartErrorCode = 'boundary' | 'malformed' | 'truncated' | 'limit';

export class MultipartError extends Error {
  constructor(
    message: string,
    readonly code: MultipartErrorCode,
  ) {
    super(message);
    this.name = 'MultipartError';
  }
}

export interface MultipartField {
  kind: 'field';
  name: string;
  value: string;
}

export interface MultipartFile {
  kind: 'file';
  name: string;
  /** The part's filename parameter, as sent (never use it as a path). */
  fileName: string;
  contentType: string;
  /** The part's bytes; consume it before asking for the next part, or they are skipped. */
  stream: Readable;
}

export type MultipartPart = MultipartField | MultipartFile;

const DEFAULTS: Required<MultipartLimits> = {
  maxFields: 1000,
  maxFieldSize: 1 << 20,
  maxFieldsSize: 8 << 20,
  maxFiles: 10,
  maxHeaderSize: 16 << 10,
};

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const BOUNDARY_CHARS = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** Splits `a; b="c;d"; e=f` into its items, respecting quoted strings. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted && ch === '\\' && i + 1 < value.length) {
      cur += ch + value[++i];
    } else if (ch === '"') {
      quoted = !quoted;
      cur += ch;
    } else if (ch === ';' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw new MultipartError('unterminated quoted string in a part header', 'malformed');
  out.push(cur.trim());
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

/** `type; k=v; k2="v2"` → the type (lower-cased) and its parameters (keys lower-cased). */
export function parseHeaderParams(value: string): { value: string; params: Map<string, string> } {
  const [first, ...rest] = splitParams(value);
  const params = new Map<string, string>();
  for (const item of rest) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const key = item.slice(0, eq).trim().toLowerCase();
    const raw = item.slice(eq + 1).trim();
    if (key.endsWith('*')) {
      // RFC 5987: charset'lang'percent-encoded
      const m = /^([^']*)'[^']*'(.*)$/.exec(raw);
      if (m) {
        try {
          params.set(key.slice(0, -1), decodeURIComponent(m[2]));
        } catch {
          throw new MultipartError(`invalid ${key} parameter`, 'malformed');
        }
      }
      continue;
    }
    if (!params.has(key)) params.set(key, unquote(raw));
  }
  return { value: (first ?? '').toLowerCase(), params };
}

/** The boundary of a multipart/form-data Content-Type; MultipartError if there is none. */
export function multipartBoundary(contentType: string | undefined): string {
  if (!contentType) throw new MultipartError('missing Content-Type: expected multipart/form-data', 'boundary');
  const { value, params } = parseHeaderParams(contentType);
  if (value !== 'multipart/form-data') throw new MultipartError(`expected multipart/form-data, got ${value || 'nothing'}`, 'boundary');
  const boundary = params.get('boundary');
  if (!boundary) throw new MultipartError('multipart/form-data without a boundary', 'boundary');
  if (!BOUNDARY_CHARS.test(boundary)) throw new MultipartError('invalid multipart boundary', 'boundary');
  return boundary;
}

/** Pulls chunks from a stream on demand and keeps what has not been consumed yet. */
class ByteSource {
  buf: Buffer;
  private ended = false;
  private readonly it: AsyncIterator<unknown>;

  constructor(body: Readable, initial: Buffer) {
    this.it = body[Symbol.asyncIterator]();
    this.buf = initial;
  }

  /** Reads one more chunk; false at the end of the body. */
  async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as string);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  async ensure(n: number): Promise<boolean> {
    while (this.buf.length < n) if (!(await this.more())) return false;
    return true;
  }

  /** Drops the rest of the body without keeping it. */
  async discardAll(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.more()) this.buf = Buffer.alloc(0);
  }

  async close(): Promise<void> {
    await this.it.return?.().catch(() => undefined);
  }
}

const truncated = () => new MultipartError('unexpected end of multipart body', 'truncated');

export class MultipartReader implements AsyncIterable<MultipartPart> {
  private readonly src: ByteSource;
  private readonly delimiter: Buffer;
  private readonly limits: Required<MultipartLimits>;
  private state: 'start' | 'parts' | 'done' = 'start';
  /** The file part being streamed, until its closing delimiter has been read. */
  private openFile?: { stream: Readable; ended: boolean; reading: Promise<void> | null };
  private fields = 0;
  private files = 0;
  private fieldBytes = 0;
  /** Why the body could not be read; every later call fails with it. */
  private failure?: Error;

  /** `boundary` as returned by multipartBoundary(); parseMultipart() takes the Content-Type. */
  constructor(body: Readable, boundary: string, limits: MultipartLimits = {}) {
    if (!boundary) throw new MultipartError('multipart/form-data without a boundary', 'boundary');
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.limits = { ...DEFAULTS, ...limits };
    // A virtual CRLF lets the first delimiter be found like every other one.
    this.src = new ByteSource(body, Buffer.from(CRLF));
  }

  [Symbol.asyncIterator](): AsyncIterator<MultipartPart> {
    return {
      next: async () => {
        const part = await this.next();
        return part ? { value: part, done: false } : { value: undefined, done: true };
      },
      return: async () => {
        await this.src.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** The next part, or null after the closing delimiter. */
  async next(): Promise<MultipartPart | null> {
    if (this.failure) throw this.failure;
    try {
      await this.finishOpenFile();
      if (this.state === 'done') return null;
      if (this.state === 'start') {
        await this.skipToDelimiter();
        this.state = 'parts';
      }
      if (await this.atClosingDelimiter()) {
        this.state = 'done';
        await this.src.discardAll();
        return null;
      }
      return await this.readPart();
    } catch (err) {
      this.state = 'done';
      this.failure = err as Error;
      await this.src.close();
      throw err;
    }
  }

  /**
   * The next piece of the current part's body: everything before the delimiter that is
   * surely not the delimiter's start. `end` once the delimiter has been consumed.
   */
  private async piece(): Promise<{ data: Buffer; end: boolean }> {
    const d = this.delimiter;
    for (;;) {
      const { buf } = this.src;
      const i = buf.indexOf(d);
      if (i >= 0) {
        this.src.buf = buf.subarray(i + d.length);
        return { data: buf.subarray(0, i), end: true };
      }
      const safe = buf.length - (d.length - 1);
      if (safe > 0) {
        this.src.buf = buf.subarray(safe);
        return { data: buf.subarray(0, safe), end: false };
      }
      if (!(await this.src.more())) throw truncated();
    }
  }

  private async skipToDelimiter(): Promise<void> {
    let seen = 0;
    for (;;) {
      const { data, end } = await this.piece();
      seen += data.length;
      if (end) return;
      if (seen > this.limits.maxHeaderSize) throw new MultipartError('no multipart boundary found at the start of the body', 'malformed');
    }
  }

  /** After a delimiter: `--` ends the body; otherwise optional padding and CRLF. */
  private async atClosingDelimiter(): Promise<boolean> {
    if (!(await this.src.ensure(2))) throw truncated();
    if (this.src.buf[0] === 0x2d && this.src.buf[1] === 0x2d) return true;
    for (;;) {
      if (!(await this.src.ensure(2))) throw truncated();
      const b = this.src.buf;
      if (b[0] === 0x20 || b[0] === 0x09) {
        this.src.buf = b.subarray(1);
        continue;
      }
      if (b[0] === 0x0d && b[1] === 0x0a) {
        this.src.buf = b.subarray(2);
        return false;
      }
      throw new MultipartError('malformed multipart delimiter line', 'malformed');
    }
  }

  private async readHeaders(): Promise<Map<string, string>> {
    const max = this.limits.maxHeaderSize;
    for (;;) {
      const b = this.src.buf;
      if (b.length >= 2 && b[0] === 0x0d && b[1] === 0x0a) {
        this.src.buf = b.subarray(2);
        return new Map();
      }
      const end = b.indexOf(HEADER_END);
      if (end >= 0) {
        this.src.buf = b.subarray(end + HEADER_END.length);
        return this.parseHeaderBlock(b.subarray(0, end).toString('utf8'));
      }
      if (b.length > max) throw new MultipartError(`part headers exceed ${max} bytes`, 'limit');
      if (!(await this.src.more())) throw truncated();
    }
  }

  private parseHeaderBlock(block: string): Map<string, string> {
    const headers = new Map<string, string>();
    for (const line of block.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new MultipartError('malformed part header line', 'malformed');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return headers;
  }

  private async readPart(): Promise<MultipartPart> {
    const headers = await this.readHeaders();
    const disposition = headers.get('content-disposition');
    if (!disposition) throw new MultipartError('part without Content-Disposition', 'malformed');
    const { value, params } = parseHeaderParams(disposition);
    const name = params.get('name');
    if (value !== 'form-data' || name === undefined) throw new MultipartError('part Content-Disposition must be form-data with a name', 'malformed');
    const fileName = params.get('filename');
    if (fileName !== undefined) return this.filePart(name, fileName, headers.get('content-type') ?? 'application/octet-stream');

    if (++this.fields > this.limits.maxFields) throw new MultipartError(`too many fields (more than ${this.limits.maxFields})`, 'limit');
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const { data, end } = await this.piece();
      size += data.length;
      this.fieldBytes += data.length;
      if (size > this.limits.maxFieldSize) throw new MultipartError(`field ${name} exceeds ${this.limits.maxFieldSize} bytes`, 'limit');
      if (this.fieldBytes > this.limits.maxFieldsSize) throw new MultipartError(`fields exceed ${this.limits.maxFieldsSize} bytes in total`, 'limit');
      chunks.push(data);
      if (end) return { kind: 'field', name, value: Buffer.concat(chunks).toString('utf8') };
    }
  }

  private filePart(name: string, fileName: string, contentType: string): MultipartFile {
    if (++this.files > this.limits.maxFiles) throw new MultipartError(`too many files (more than ${this.limits.maxFiles})`, 'limit');
    const file: NonNullable<MultipartReader['openFile']> = { stream: undefined as never, ended: false, reading: null };
    file.stream = new Readable({
      highWaterMark: 1 << 16,
      read: () => {
        if (file.reading || file.ended) return;
        file.reading = this.piece().then(
          ({ data, end }) => {
            file.reading = null;
            if (end) file.ended = true;
            if (data.length) file.stream.push(data);
            if (end) file.stream.push(null);
          },
          (err) => {
            file.reading = null;
            file.ended = true;
            this.state = 'done';
            this.failure = err as Error;
            file.stream.destroy(err);
          },
        );
      },
    });
    this.openFile = file;
    return { kind: 'file', name, fileName, contentType, stream: file.stream };
  }

  /** Skips what the consumer did not read of the previous file part. */
  private async finishOpenFile(): Promise<void> {
    const file = this.openFile;
    if (!file) return;
    this.openFile = undefined;
    if (file.reading) await file.reading.catch(() => undefined);
    if (!file.ended) {
      file.ended = true;
      if (!file.stream.destroyed) file.stream.destroy();
      for (;;) if ((await this.piece()).end) break;
    }
  }
}

/** Iterates the parts of a multipart/form-data body; see MultipartReader. */
export function parseMultipart(body: Readable, contentType: string | undefined, limits?: MultipartLimits): MultipartReader {
  return new MultipartReader(body, multipartBoundary(contentType), limits);
}
