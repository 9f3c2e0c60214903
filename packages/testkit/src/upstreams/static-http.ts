import { type ChildServer, startChildServer } from './child-server';

export type StaticHttp = ChildServer;

/**
 * Serves `dir` over HTTP with Python's own file server (`python3 -m http.server`) as a child
 * process on a free port of 127.0.0.1: real software with real 404s, directory redirects and
 * Content-Length, for upstreams that are a tree of files (a PEP 503 index, a Maven repository).
 */
export function startStaticHttp(dir: string): Promise<StaticHttp> {
  return startChildServer({
    name: `python3 -m http.server (${dir})`,
    command: '/usr/bin/python3',
    args: (port) => ['-m', 'http.server', '--bind', '127.0.0.1', String(port), '--directory', dir],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    readyPath: '/',
  });
}
