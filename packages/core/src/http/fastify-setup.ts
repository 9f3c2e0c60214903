import { randomUUID } from 'node:crypto';

import type { FastifyInstance, FastifyServerOptions } from 'fastify';

import { untrustedValueProblem } from '../text/json';
import { sendHttpError } from './error.filter';
import { httpErrors } from './http-error';
import { ORIGINAL_CONTENT_TYPE } from './stream-body.decorator';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

const nullByte = () => httpErrors.badRequest('Null byte in request');

/** Options for the Fastify instance under Nest. */
export function fastifyOptions(opts: { bodyLimit: number; trustProxy: boolean }): FastifyServerOptions {
  return {
    bodyLimit: opts.bodyLimit,
    // One hop: the address a client appears from is the last X-Forwarded-For entry, the one
    // the proxy itself appended; entries before it are the client's to write (`true` would
    // trust the first, so any client could name its own address in logs and checks).
    // (A hop count is no use: Fastify 5 trusts no hop given as a number.)
    trustProxy: opts.trustProxy ? (_address: string, hop: number) => hop === 0 : false,
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
 * - every response names its request id;
 * - a NUL byte in the query string (raw or `%00`) or in a parsed body is a 400, as GitLab's
 *   HandleNullBytes middleware answers: no parameter may contain one. Path segments are the
 *   routes' to validate (each format answers in its own words; core's project and group
 *   lookups treat such a path as not found);
 * - a parsed body nested deeper than MAX_JSON_DEPTH is a 400 before any handler (or
 *   JSON.stringify, or a jsonb parameter) recurses through it.
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
    const query = request.url.indexOf('?');
    if (query >= 0 && (request.url.includes('%00', query) || request.url.includes('\0', query))) {
      sendHttpError(request, reply, nullByte());
      return reply;
    }
    if ((request.routeOptions.config as { streamBody?: boolean } | undefined)?.streamBody) {
      const type = request.headers['content-type'];
      if (type !== undefined) request.headers[ORIGINAL_CONTENT_TYPE] = type;
      request.headers['content-type'] = 'application/octet-stream';
    }
  });

  app.addHook('preValidation', async (request, reply) => {
    const problem = untrustedValueProblem(request.body);
    if (problem) {
      sendHttpError(request, reply, problem.reason === 'nul' ? nullByte() : httpErrors.badRequest(`JSON ${problem.message}`));
      return reply;
    }
  });
}
