import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { ORIGINAL_CONTENT_TYPE } from './stream-body.decorator';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Options for the Fastify instance under Nest. */
export function fastifyOptions(opts: { bodyLimit: number; trustProxy: boolean }): FastifyServerOptions {
  return {
    bodyLimit: opts.bodyLimit,
    trustProxy: opts.trustProxy,
    // Generic file paths and Conan references make long path segments.
    routerOptions: { maxParamLength: 4096 },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  } as FastifyServerOptions;
}

/**
 * Hooks every route needs, registered before Nest adds its routes:
 * - bodies other than JSON and forms are handed to handlers as the raw stream (package
 *   files are never buffered; handlers enforce their own size limits while streaming);
 * - a route may raise its own JSON body limit with `@BodyLimit()`, or take any body as a
 *   stream with `@StreamBody()`;
 * - every response names its request id.
 */
export function configureFastify(app: FastifyInstance): void {
  const passThrough = (_req: unknown, payload: NodeJS.ReadableStream, done: (e: Error | null, body?: unknown) => void) =>
    done(null, payload);
  app.addContentTypeParser('application/octet-stream', passThrough);
  app.addContentTypeParser('*', passThrough);

  app.addHook('onRoute', (route) => {
    const limit = (route.config as { bodyLimit?: number } | undefined)?.bodyLimit;
    if (typeof limit === 'number') route.bodyLimit = limit;
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if ((request.routeOptions.config as { streamBody?: boolean } | undefined)?.streamBody) {
      const type = request.headers['content-type'];
      if (type !== undefined) request.headers[ORIGINAL_CONTENT_TYPE] = type;
      request.headers['content-type'] = 'application/octet-stream';
    }
  });
}
