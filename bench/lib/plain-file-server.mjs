// The reference a download is measured against: plain Node serving a file, nothing else.
// GET /<path under root> answers 200 with Content-Length and fs.createReadStream(file).pipe(res).
// Prints `listening <port>` on stdout when ready.
//   node bench/lib/plain-file-server.mjs <root> [port]
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';

const [root, port = '0'] = process.argv.slice(2);
const server = createServer((req, res) => {
  const path = join(root, normalize(decodeURIComponent(req.url.split('?')[0])).replace(/^(\.\.[/\\])+/, ''));
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
