// Real upstream registries on this machine for proxy tests (issue 16): Verdaccio for npm,
// Python's file server over a PEP 503 tree for PyPI and over Debian's Maven repository for
// Maven, and a fault-injecting proxy to put in front of any of them.
export { cachedTree, cacheKey, upstreamCacheDir } from './cache';
export { type ChildServer, freePort } from './child-server';
export * from './fault-proxy';
export * from './maven';
export * from './npm-client';
export * from './pip-venv';
export * from './pypi';
export * from './static-http';
export * from './verdaccio';
