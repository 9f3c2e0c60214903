import { AsyncLocalStorage } from 'node:async_hooks';

import type { FastifyInstance, FastifyRequest } from 'fastify';

const scope = new AsyncLocalStorage<FastifyRequest>();

/**
 * The request whose handler is running, for code deep in a call chain that records who did
 * something and from where (the audit log) without every caller passing the request down.
 * Undefined outside a request (jobs, start-up).
 */
export function currentRequest(): FastifyRequest | undefined {
  return scope.getStore();
}

/**
 * Enters the request's scope just before its guards and handler run: a preHandler hook, after
 * the body is parsed (a body's stream events would carry the socket's context, not the request's).
 */
export function enterRequestScope(app: FastifyInstance): void {
  app.addHook('preHandler', (request, _reply, done) => scope.run(request, done));
}
