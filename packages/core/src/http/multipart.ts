import { Readable } from 'node:stream';
import { MIMEType } from 'node:util';

import busboy from 'busboy';

import { UNSTORABLE_TEXT, unstorableText } from '../text/storable-text';
import { isClientAbort } from './stream-body.decorator';

/**
 * Streaming multipart/form-data (RFC 7578) on busboy. Text fields are collected (capped); a
 * file part is handed over as a Readable that pulls straight from the request, so a file is
 * never buffered: pipe it into FileStorage.store() before asking for the next part.
 *
 *   for await (const part of parseMultipart(requestStream(req), contentType)) {
 *     if (part.kind === 'file') blob = await storage.store(part.stream);
 *     else fields.push(part);
 *   }
 *
 * Malformed bodies, a missing boundary and exceeded limits raise MultipartError (from the
 * iterator, and through the file stream when the body breaks inside a file), and so does a
 * client that goes away mid-body: the body closing early fails the form, never hangs it.
 * As busboy does, a part without a form-data Content-Disposition is skipped.
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
  /** Bytes of a part's name, file name and type together (default 16 KiB; busboy refuses header blocks past 16 KiB). */
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

/** RFC 2046's boundary grammar. */
const BOUNDARY_CHARS = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** The boundary of a multipart/form-data Content-Type; MultipartError if there is none. */
export function multipartBoundary(contentType: string | undefined): string {
  if (!contentType) throw new MultipartError('missing Content-Type: expected multipart/form-data', 'boundary');
  let type: MIMEType;
  try {
    type = new MIMEType(contentType);
  } catch {
    throw new MultipartError(`expected multipart/form-data, got ${contentType.split(';')[0].trim() || 'nothing'}`, 'boundary');
  }
  if (type.essence !== 'multipart/form-data') throw new MultipartError(`expected multipart/form-data, got ${type.essence}`, 'boundary');
  const boundary = type.params.get('boundary');
  if (!boundary) throw new MultipartError('multipart/form-data without a boundary', 'boundary');
  if (!BOUNDARY_CHARS.test(boundary)) throw new MultipartError('invalid multipart boundary', 'boundary');
  return boundary;
}

const truncated = () => new MultipartError('unexpected end of multipart body', 'truncated');
const clientGone = () => new MultipartError('the client closed the connection before the body was complete', 'truncated');

/** busboy's errors (plain Errors) in this module's terms; anything else unchanged. */
function translate(err: Error): Error {
  if (err instanceof MultipartError) return err;
  if (isClientAbort(err)) return clientGone();
  if (/^Unexpected end of (form|file)$/.test(err.message)) return truncated();
  if (err.message === 'Malformed part header')
    return new MultipartError('malformed part header line (or part headers over 16 KiB)', 'malformed');
  return err;
}

/**
 * Iterates a form's parts in order. busboy pushes parts as it parses; they queue here (as
 * promises, so a field sent as a nameless file keeps its place) until the consumer asks,
 * and busboy waits while a file part's bytes are not read, so memory stays bounded.
 */
export class MultipartReader implements AsyncIterable<MultipartPart> {
  private readonly limits: Required<MultipartLimits>;
  private readonly parser: busboy.Busboy;
  private readonly queue: Promise<MultipartPart>[] = [];
  private wake?: () => void;
  private finished = false;
  /** Why the body could not be read; every later call fails with it. */
  private failure?: Error;
  /** Skips the file part handed out last, if the consumer asks for the next part without reading it. */
  private skipOpenFile?: () => void;
  /** The file parts queued, by stream, with how to skip each. */
  private readonly skips = new WeakMap<Readable, () => void>();
  private fields = 0;
  private files = 0;
  private fieldBytes = 0;

  /** `boundary` as returned by multipartBoundary(); parseMultipart() takes the Content-Type. */
  constructor(
    private readonly body: Readable,
    boundary: string,
    limits: MultipartLimits = {},
  ) {
    if (!boundary) throw new MultipartError('multipart/form-data without a boundary', 'boundary');
    this.limits = { ...DEFAULTS, ...limits };
    this.parser = busboy({
      // The boundary was checked against RFC 2046's grammar, which has no quote or backslash.
      headers: { 'content-type': `multipart/form-data; boundary="${boundary}"` },
      // File names as sent (the formats read them; none uses one as a path), decoded as UTF-8.
      preservePath: true,
      defParamCharset: 'utf8',
      // One byte over the limit, so that a value of exactly the limit is not reported truncated.
      limits: { fieldSize: this.limits.maxFieldSize + 1 },
      fileHwm: 1 << 16,
    });
    this.parser.on('field', (name, value, info) => this.onField(name, value, info.valueTruncated));
    this.parser.on('file', (name, stream, info) => this.onFile(name, stream, info));
    this.parser.on('error', (err: Error) => this.fail(translate(err)));
    this.parser.on('finish', () => {
      this.finished = true;
      this.detach();
      this.wake?.();
    });
    body.on('error', this.onBodyError);
    body.on('close', this.onBodyClose);
    body.pipe(this.parser);
  }

  private readonly onBodyError = (err: Error) => this.fail(translate(err));

  /** A body destroyed without an error (IncomingMessage does so when nobody listens for one). */
  private readonly onBodyClose = () => {
    if (!this.body.readableEnded) this.fail(clientGone());
  };

  private detach(): void {
    this.body.off('error', this.onBodyError);
    this.body.off('close', this.onBodyClose);
    this.body.unpipe(this.parser);
  }

  /**
   * Stops reading: the body is left where it is (not drained, not destroyed), so the server
   * can still answer; the error filter closes the connection after an unread body.
   */
  private fail(err: Error): void {
    if (this.failure || this.finished) return;
    this.failure = err;
    this.detach();
    this.parser.destroy(err);
    this.wake?.();
  }

  private enqueue(part: Promise<MultipartPart>): void {
    part.catch(() => undefined);
    this.queue.push(part);
    this.wake?.();
  }

  /** Counts a text field against the limits; the error to fail with, if one is passed. */
  private checkField(name: string, bytes: number, truncatedByParser = false, value = ''): MultipartError | undefined {
    const { maxFields, maxFieldSize, maxFieldsSize } = this.limits;
    // GitLab refuses NULs in every parameter; PostgreSQL stores neither them nor lone surrogates.
    const unstorable = unstorableText(value);
    if (unstorable === 'nul') return new MultipartError(`field ${name} contains a NUL character`, 'malformed');
    if (unstorable) return new MultipartError(`field ${name} contains ${UNSTORABLE_TEXT[unstorable]}`, 'malformed');
    if (++this.fields > maxFields) return new MultipartError(`too many fields (more than ${maxFields})`, 'limit');
    if (truncatedByParser || bytes > maxFieldSize) return new MultipartError(`field ${name} exceeds ${maxFieldSize} bytes`, 'limit');
    if ((this.fieldBytes += bytes) > maxFieldsSize) return new MultipartError(`fields exceed ${maxFieldsSize} bytes in total`, 'limit');
    return undefined;
  }

  private checkHeader(name: string | undefined, ...values: (string | undefined)[]): string {
    if (name === undefined) throw new MultipartError('part Content-Disposition must be form-data with a name', 'malformed');
    const unstorable = [name, ...values].map((v) => (v === undefined ? null : unstorableText(v))).find(Boolean);
    if (unstorable === 'nul') throw new MultipartError('part headers contain a NUL character', 'malformed');
    if (unstorable) throw new MultipartError(`part headers contain ${UNSTORABLE_TEXT[unstorable]}`, 'malformed');
    const size = [name, ...values].reduce((n, v) => n + Buffer.byteLength(v ?? ''), 0);
    if (size > this.limits.maxHeaderSize) throw new MultipartError(`part headers exceed ${this.limits.maxHeaderSize} bytes`, 'limit');
    return name;
  }

  private onField(rawName: string | undefined, value: string, valueTruncated: boolean): void {
    try {
      const name = this.checkHeader(rawName);
      const err = this.checkField(name, Buffer.byteLength(value), valueTruncated, value);
      if (err) throw err;
      this.enqueue(Promise.resolve({ kind: 'field', name, value }));
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private onFile(rawName: string | undefined, source: Readable, info: busboy.FileInfo): void {
    // busboy fails the open file stream when the form fails; the reader reports that error.
    source.on('error', () => undefined);
    let name: string;
    try {
      name = this.checkHeader(rawName, info.filename, info.mimeType);
    } catch (err) {
      source.resume();
      return this.fail(err as Error);
    }
    // busboy makes any application/octet-stream part a file; without a filename it is a field.
    if (info.filename === undefined) return this.enqueue(this.collectField(name, source));
    if (++this.files > this.limits.maxFiles) {
      source.resume();
      return this.fail(new MultipartError(`too many files (more than ${this.limits.maxFiles})`, 'limit'));
    }
    const { stream, skip } = relay(source);
    this.skips.set(stream, skip);
    this.enqueue(Promise.resolve({ kind: 'file', name, fileName: info.filename, contentType: info.mimeType, stream }));
  }

  private collectField(name: string, source: Readable): Promise<MultipartPart> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      source.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.limits.maxFieldSize) {
          source.destroy();
          this.fail(new MultipartError(`field ${name} exceeds ${this.limits.maxFieldSize} bytes`, 'limit'));
        } else chunks.push(c);
      });
      source.once('error', (err) => reject(translate(err)));
      source.once('close', () => {
        if (!source.readableEnded) return reject(this.failure ?? truncated());
        const value = Buffer.concat(chunks).toString('utf8');
        const err = this.checkField(name, size, false, value);
        if (err) {
          this.fail(err);
          return reject(err);
        }
        resolve({ kind: 'field', name, value });
      });
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<MultipartPart> {
    return {
      next: async () => {
        const part = await this.next();
        return part ? { value: part, done: false } : { value: undefined, done: true };
      },
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** The next part, or null after the closing delimiter (and the body's end). */
  async next(): Promise<MultipartPart | null> {
    // Whatever the consumer did not read of the previous file part is skipped.
    this.skipOpenFile?.();
    this.skipOpenFile = undefined;
    for (;;) {
      // Parts parsed before a failure come first (a file part's stream then fails with it).
      const head = this.queue.shift();
      if (head) {
        const part = await head;
        if (part.kind === 'file') this.skipOpenFile = this.skips.get(part.stream);
        return part;
      }
      if (this.failure) throw this.failure;
      if (this.finished) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** The consumer stopped early: stop parsing and let go of the body. */
  close(): void {
    if (this.finished || this.failure) return;
    this.fail(new MultipartError('the form was not read to its end', 'truncated'));
  }
}

/**
 * A file part for the consumer: busboy's stream with its errors in MultipartError terms (a
 * stream of our own, because busboy fails its file stream before it reports the error), and
 * `skip`, which discards what the consumer did not read so that parsing can go on.
 */
function relay(source: Readable): { stream: Readable; skip(): void } {
  let skipping = false;
  const stream = new Readable({
    highWaterMark: 1 << 16,
    read: () => void source.resume(),
    destroy: (err, done) => {
      // A consumer that gives up (size limit, its own error) leaves the rest unread until skipped.
      if (!skipping && !source.readableEnded) source.pause();
      done(err);
    },
  });
  source.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) source.pause();
  });
  source.once('end', () => stream.push(null));
  source.once('error', (err) => stream.destroy(translate(err)));
  // The form may fail before the consumer reads this part: it then meets the error (stream.errored), and so does the reader.
  stream.on('error', () => undefined);
  return {
    stream,
    skip: () => {
      if (source.readableEnded) return;
      skipping = true;
      stream.destroy();
      source.removeAllListeners('data');
      source.resume();
    },
  };
}

/** Iterates the parts of a multipart/form-data body; see MultipartReader. */
export function parseMultipart(body: Readable, contentType: string | undefined, limits?: MultipartLimits): MultipartReader {
  return new MultipartReader(body, multipartBoundary(contentType), limits);
}
