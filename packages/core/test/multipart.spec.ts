import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';

import { multipartBoundary, MultipartError, type MultipartPart, parseMultipart } from '../src/http/multipart';

const run = promisify(execFile);
const B = 'XyZ-boundary-42';
const TYPE = `multipart/form-data; boundary=${B}`;

function body(
  parts: { name: string; value: string | Buffer; fileName?: string }[],
  opts: { preamble?: string; epilogue?: string } = {},
): Buffer {
  const out: Buffer[] = [Buffer.from(opts.preamble ?? '')];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.fileName !== undefined ? `; filename="${p.fileName}"` : ''}`;
    out.push(
      Buffer.from(
        `--${B}\r\nContent-Disposition: ${disposition}\r\n${p.fileName !== undefined ? 'Content-Type: application/octet-stream\r\n' : ''}\r\n`,
      ),
    );
    out.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value));
    out.push(Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${B}--\r\n${opts.epilogue ?? ''}`));
  return Buffer.concat(out);
}

/** A stream that hands the bytes over in chunks of `size`. */
function chunked(buf: Buffer, size: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i >= buf.length) return void this.push(null);
      this.push(buf.subarray(i, i + size));
      i += size;
    },
  });
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Reads every part; file parts are read whole (for assertions only). */
async function readAll(source: Readable, type = TYPE, limits = {}) {
  const out: { name: string; value?: string; fileName?: string; bytes?: Buffer }[] = [];
  for await (const part of parseMultipart(source, type, limits)) {
    if (part.kind === 'field') out.push({ name: part.name, value: part.value });
    else out.push({ name: part.name, fileName: part.fileName, bytes: await collect(part.stream) });
  }
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('multipartBoundary', () => {
  it('reads plain and quoted boundaries', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc')).toBe('abc');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
  });

  it.each([
    [undefined, /missing Content-Type/],
    ['application/json', /expected multipart\/form-data, got application\/json/],
    ['multipart/form-data', /without a boundary/],
    ['multipart/form-data; boundary=""', /without a boundary/],
    [`multipart/form-data; boundary=${'x'.repeat(71)}`, /invalid multipart boundary/],
  ])('refuses %p', (type, message) => {
    let err: unknown;
    try {
      multipartBoundary(type);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MultipartError);
    expect((err as MultipartError).code).toBe('boundary');
    expect((err as Error).message).toMatch(message);
  });
});

describe('parseMultipart', () => {
  // Bytes that look like the delimiter's start, CRLFs and the boundary without its dashes.
  const tricky = Buffer.concat([Buffer.from(`\r\n--${B.slice(0, 5)}\r\n-${B}\r\n\r\n--`), randomBytes(3000), Buffer.from(`\r\n-`)]);

  it.each([1, 2, 7, 64, 1 << 16])('parses fields and a binary file fed in chunks of %d bytes', async (size) => {
    const raw = body(
      [
        { name: ':action', value: 'file_upload' },
        { name: 'classifiers', value: 'A :: B' },
        { name: 'classifiers', value: 'C :: D' },
        { name: 'description', value: 'line one\r\nline two\r\n' },
        { name: 'content', value: tricky, fileName: 'x-1.0.tar.gz' },
        { name: 'after', value: 'ü-utf8' },
      ],
      { preamble: 'ignored preamble\r\n', epilogue: 'ignored epilogue' },
    );
    const parts = await readAll(chunked(raw, size));
    expect(parts.map((p) => p.name)).toEqual([':action', 'classifiers', 'classifiers', 'description', 'content', 'after']);
    expect(parts[3].value).toBe('line one\r\nline two\r\n');
    expect(parts[4].fileName).toBe('x-1.0.tar.gz');
    expect(sha(parts[4].bytes!)).toBe(sha(tricky));
    expect(parts[5].value).toBe('ü-utf8');
  });

  it('handles empty values and empty files', async () => {
    const parts = await readAll(
      chunked(
        body([
          { name: 'a', value: '' },
          { name: 'f', value: '', fileName: 'e.bin' },
        ]),
        3,
      ),
    );
    expect(parts).toEqual([
      { name: 'a', value: '' },
      { name: 'f', fileName: 'e.bin', bytes: Buffer.alloc(0) },
    ]);
  });

  it('skips a file part the consumer does not read', async () => {
    const raw = body([
      { name: 'sig', value: randomBytes(200_000), fileName: 's.asc' },
      { name: 'name', value: 'pkg' },
    ]);
    const seen: string[] = [];
    for await (const part of parseMultipart(chunked(raw, 4096), TYPE))
      seen.push(part.kind === 'field' ? `${part.name}=${part.value}` : `file:${part.name}`);
    expect(seen).toEqual(['file:sig', 'name=pkg']);
  });

  it('decodes quoted-pair and RFC 5987 file names', async () => {
    const raw = Buffer.from(
      `--${B}\r\ncontent-disposition: form-data; name="a"; filename="q\\"uote;d.whl"\r\n\r\nx\r\n` +
        `--${B}\r\nContent-Disposition: form-data; name="b"; filename="fallback"; filename*=UTF-8''%C3%BC.whl\r\n\r\ny\r\n--${B}--`,
    );
    const parts = await readAll(Readable.from([raw]));
    expect(parts.map((p) => p.fileName)).toEqual(['q"uote;d.whl', 'ü.whl']);
  });

  it('streams a file without buffering it: reads stay a bounded distance ahead of the consumer', async () => {
    const fileSize = 64 << 20;
    const head = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="content"; filename="big.bin"\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${B}--\r\n`);
    const block = randomBytes(1 << 16);
    let produced = 0;
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent === 0) {
          sent = 1;
          return void this.push(head);
        }
        if (produced >= fileSize) {
          if (sent === 1) {
            sent = 2;
            this.push(tail);
          }
          return void this.push(null);
        }
        produced += block.length;
        this.push(block);
      },
    });
    let consumed = 0;
    let maxAhead = 0;
    for await (const part of parseMultipart(source, TYPE)) {
      expect(part.kind).toBe('file');
      for await (const chunk of (part as Extract<MultipartPart, { kind: 'file' }>).stream) {
        consumed += (chunk as Buffer).length;
        maxAhead = Math.max(maxAhead, produced - consumed);
        if (consumed % (8 << 20) < 1 << 16) await new Promise((r) => setImmediate(r));
      }
    }
    expect(consumed).toBe(fileSize);
    expect(maxAhead).toBeLessThan(2 << 20);
  });

  async function failure(source: Readable, limits = {}, type = TYPE): Promise<MultipartError> {
    try {
      await readAll(source, type, limits);
    } catch (err) {
      expect(err).toBeInstanceOf(MultipartError);
      return err as MultipartError;
    }
    throw new Error('expected a MultipartError');
  }

  it.each([
    ['no closing delimiter', Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue`), 'truncated', /unexpected end/],
    ['a body without any boundary', Buffer.from('name=value&x=y'), 'truncated', /unexpected end/],
    ['a nameless part', Buffer.from(`--${B}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--${B}--`), 'malformed', /with a name/],
    ['a header line without colon', Buffer.from(`--${B}\r\nnonsense\r\n\r\nv\r\n--${B}--`), 'malformed', /header line/],
  ])('refuses %s', async (_what, raw, code, message) => {
    const err = await failure(chunked(raw, 5));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  // busboy's reading, kept: what is not a form-data part with a name is no part at all. The
  // formats then miss the field they need and say so.
  it.each([
    ['no Content-Disposition', `--${B}\r\nContent-Type: text/plain\r\n\r\nv\r\n`],
    ['garbage after a delimiter', `--${B}xx\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n`],
    ['an unterminated quote', `--${B}\r\nContent-Disposition: form-data; name="a\r\n\r\nv\r\n`],
    ['a disposition other than form-data', `--${B}\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n`],
  ])('skips a part with %s', async (_what, bad) => {
    const raw = Buffer.from(`${bad}--${B}\r\nContent-Disposition: form-data; name="ok"\r\n\r\nkept\r\n--${B}--`);
    expect(await readAll(chunked(raw, 5))).toEqual([{ name: 'ok', value: 'kept' }]);
  });

  it('fails the file stream when the body ends inside a file', async () => {
    const raw = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="content"; filename="f"\r\n\r\n${'x'.repeat(10_000)}`);
    const reader = parseMultipart(chunked(raw, 1000), TYPE);
    const part = await reader.next();
    expect(part?.kind).toBe('file');
    await expect(collect((part as Extract<MultipartPart, { kind: 'file' }>).stream)).rejects.toThrow(/unexpected end of multipart body/);
    await expect(reader.next()).rejects.toThrow(MultipartError);
  });

  // A request whose client goes away mid-body: Node destroys it, with an error only when
  // someone listens for one. Either way the form must fail, never wait for more bytes.
  it.each([
    ['destroyed without an error', (s: Readable) => s.destroy()],
    ['reset', (s: Readable) => s.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))],
  ])('fails the open file and the reader when the body is %s', async (_how, end) => {
    const head = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="content"; filename="f"\r\n\r\n${'x'.repeat(5000)}`);
    const source = new Readable({ read() {} });
    source.push(head);
    const reader = parseMultipart(source, TYPE);
    const part = (await reader.next()) as Extract<MultipartPart, { kind: 'file' }>;
    const reading = collect(part.stream);
    await new Promise((r) => setImmediate(r));
    end(source);
    await expect(reading).rejects.toMatchObject({ code: 'truncated', message: /client closed the connection/ });
    await expect(reader.next()).rejects.toBeInstanceOf(MultipartError);
  });

  it('leaves the body to the server when the consumer stops early', async () => {
    // Bigger than every buffer on the way, so the source cannot have been read to its end.
    const raw = body([
      { name: 'a', value: '1' },
      { name: 'f', value: randomBytes(4 << 20), fileName: 'f.bin' },
    ]);
    const source = chunked(raw, 1000);
    for await (const part of parseMultipart(source, TYPE)) if (part.name === 'a') break;
    expect([source.destroyed, source.readableEnded]).toEqual([false, false]);
    expect(source.listenerCount('data')).toBe(0);
  });

  it('reads an application/octet-stream part without a filename as a field, in its place', async () => {
    const raw = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="a"\r\nContent-Type: application/octet-stream\r\n\r\none\r\n` +
        `--${B}\r\nContent-Disposition: form-data; name="b"\r\n\r\ntwo\r\n--${B}--`,
    );
    expect(await readAll(chunked(raw, 3))).toEqual([
      { name: 'a', value: 'one' },
      { name: 'b', value: 'two' },
    ]);
  });

  it('takes a field of exactly the size limit', async () => {
    const parts = await readAll(Readable.from([body([{ name: 'd', value: 'x'.repeat(1000) }])]), TYPE, { maxFieldSize: 1000 });
    expect(parts[0].value).toHaveLength(1000);
  });

  it('enforces field count, field size, total size, file count and header size', async () => {
    const many = body(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, value: 'v' })));
    expect(await failure(Readable.from([many]), { maxFields: 10 })).toMatchObject({
      code: 'limit',
      message: 'too many fields (more than 10)',
    });
    const big = body([{ name: 'description', value: 'x'.repeat(2000) }]);
    expect(await failure(chunked(big, 100), { maxFieldSize: 1000 })).toMatchObject({
      code: 'limit',
      message: 'field description exceeds 1000 bytes',
    });
    const total = body([
      { name: 'a', value: 'x'.repeat(600) },
      { name: 'b', value: 'x'.repeat(600) },
    ]);
    expect(await failure(Readable.from([total]), { maxFieldsSize: 1000 })).toMatchObject({ code: 'limit', message: /in total/ });
    const files = body([
      { name: 'a', value: 'x', fileName: 'a' },
      { name: 'b', value: 'y', fileName: 'b' },
    ]);
    expect(await failure(Readable.from([files]), { maxFiles: 1 })).toMatchObject({
      code: 'limit',
      message: 'too many files (more than 1)',
    });
    const header = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${'n'.repeat(5000)}"\r\n\r\nv\r\n--${B}--`);
    expect(await failure(chunked(header, 512), { maxHeaderSize: 1024 })).toMatchObject({
      code: 'limit',
      message: /headers exceed 1024 bytes/,
    });
  });

  it('reads what a real client (curl -F) sends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'multipart-'));
    const payload = randomBytes(300_000);
    await writeFile(join(dir, 'pkg-1.0-py3-none-any.whl'), payload);
    let received: Awaited<ReturnType<typeof readAll>> | undefined;
    const server = createServer((req, res) => {
      readAll(req, req.headers['content-type']).then(
        (parts) => {
          received = parts;
          res.end('ok');
        },
        (err) => {
          res.statusCode = 400;
          res.end(String(err));
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const { stdout } = await run('curl', [
        '-sS',
        '-F',
        'name=pkg',
        '--form-string',
        'summary=a "quoted"; value',
        '-F',
        `content=@${join(dir, 'pkg-1.0-py3-none-any.whl')}`,
        `http://127.0.0.1:${port}/`,
      ]);
      expect(stdout).toBe('ok');
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
    expect(received!.map((p) => p.name)).toEqual(['name', 'summary', 'content']);
    expect(received![1].value).toBe('a "quoted"; value');
    expect(received![2].fileName).toBe('pkg-1.0-py3-none-any.whl');
    expect(sha(received![2].bytes!)).toBe(sha(payload));
  });
});
