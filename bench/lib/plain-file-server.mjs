// The reference a download or upload is measured against: plain Node and a file, nothing else.
// GET /<path under root> answers 200 with Content-Length and fs.createReadStream(file).pipe(res);
// PUT /<path under root> pipes the body to that file through a sha256 hash and answers 201 with it.
// Prints `listening <port>` on stdout when ready.
//   node bench/lib/plain-file-server.mjs <root> [port]
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const [root, port = '0'] = process.argv.slice(2);
const server = createServer((req, res) => {
  const path = join(root, normalize(decodeURIComponent(req.url.split('?')[0])).replace(/^(\.\.[/\\])+/, ''));
  if (req.method === 'PUT') {
    const hash = createHash('sha256');
    const hashing = new Transform({ transform: (chunk, _enc, done) => done(null, hash.update(chunk) && chunk) });
    pipeline(req, hashing, createWriteStream(path)).then(
      () => res.writeHead(201).end(hash.digest('hex')),
      () => res.writeHead(500).end(),
    );
    return;
  }
  let size;
  try {
    size = statSync(path).size;
  } catch {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  createReadStream(path).pipe(res);
});
server.listen(Number(port), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
