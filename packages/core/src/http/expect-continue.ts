import type { IncomingMessage, Server, ServerResponse } from 'node:http';

import type { FastifyInstance } from 'fastify';

import { sendHttpError } from './error.filter';
import { gitlabMessage, HttpError } from './http-error';

/** Requests whose client waits for 100 Continue that has not gone out yet: what to run when it does. */
const continuePending = new WeakMap<IncomingMessage, (() => void)[]>();
/** Requests with an Expect value other than 100-continue. */
const unmetExpectation = new WeakSet<IncomingMessage>();

/**
 * `Expect: 100-continue` (curl -T over 1 MiB, Maven's HTTP client, many SDKs) asks whether
 * the server will take the body before the client sends it. Node answers 100 Continue on
 * arrival, before any check, so a bad token or a guest without write access uploaded its
 * whole body before its 401/403. Here the request runs as any other and 100 Continue goes out
 * when the body is first read: after the guards and the route's cheap checks (size,
 * duplicate) for streamed bodies; when Fastify's parser starts, before the guards, for the
 * JSON and text bodies it parses (capped by `body_limit`; a declared length past it is
 * refused without a 100).
 * A final answer sent first makes Node close the connection (the client may still send the
 * body), so nothing waits for a body that will not come.
 *
 * Any other expectation is a 417 (Node's own would keep the connection waiting for the body).
 */
export function deferExpectContinue(app: FastifyInstance): void {
  const server: Server = app.server;
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    // Node takes any value that mentions 100-continue (`100-continue, x`); only the bare one is met.
    if (req.headers.expect?.trim().toLowerCase() === '100-continue') continueOnFirstRead(req, res);
    else unmetExpectation.add(req);
    server.emit('request', req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    unmetExpectation.add(req);
    server.emit('request', req, res);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!unmetExpectation.has(request.raw)) return;
    sendHttpError(request, reply, new HttpError(417, gitlabMessage(417, 'only Expect: 100-continue is supported')));
    return reply;
  });
}

/**
 * When the client waits for 100 Continue (its silence is no slowness of its own until then):
 * true, and `then` runs when the 100 goes out (never, if a final answer comes first).
 */
export function onContinue(req: IncomingMessage, then: () => void): boolean {
  const waiting = continuePending.get(req);
  waiting?.push(then);
  return waiting !== undefined;
}

/**
 * Node's IncomingMessage calls `_read` when a consumer first wants bytes (a pipe, a
 * `data` listener, an iterator); the parser fills the buffer itself. Wrapping it once
 * catches every reader. Node's own drain of an unread body after the answer (`_dump`) reads
 * too, hence the check that no final answer has started.
 */
function continueOnFirstRead(req: IncomingMessage, res: ServerResponse): void {
  const waiting: (() => void)[] = [];
  continuePending.set(req, waiting);
  req._read = function readAfterContinue(this: IncomingMessage, size: number) {
    delete (req as { _read?: unknown })._read;
    continuePending.delete(req);
    if (!res.headersSent && !res.writableEnded && !res.destroyed) {
      res.writeContinue();
      for (const then of waiting) then();
    }
    return req._read(size);
  };
}
