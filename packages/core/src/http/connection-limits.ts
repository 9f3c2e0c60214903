import type { Server } from 'node:http';
import type { Socket } from 'node:net';

import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

import type { ServerConfig } from '../config';
import { sendHttpError } from './error.filter';
import { onContinue } from './expect-continue';
import { HttpError } from './http-error';
import { hasBody } from './stream-body.decorator';

/**
 * What keeps slow or idle clients (slow-loris) from holding the server's connections, in
 * milliseconds. There is deliberately no limit on a request's total time: a 5 GB upload on a
 * slow line takes as long as it takes, as long as its bytes keep coming.
 */
export interface ConnectionLimits {
  /** From a connection's opening to its first byte, and from a request's first byte to its last header (0: none). */
  headersTimeout: number;
  /** Without a byte of a request body while the server waits for one (0: none). */
  bodyTimeout: number;
  /** An idle keep-alive connection between two requests. */
  keepAliveTimeout: number;
  /** Connections at once (0: no limit), and from one address (0: no limit). */
  maxConnections: number;
  maxConnectionsPerIp: number;
}

export function connectionLimits(server: ServerConfig): ConnectionLimits {
  const ms = (seconds: number) => Math.round(seconds * 1000);
  return {
    headersTimeout: ms(server.headers_timeout),
    bodyTimeout: ms(server.body_timeout),
    keepAliveTimeout: Math.max(1, ms(server.keep_alive_timeout)),
    maxConnections: server.max_connections,
    maxConnectionsPerIp: server.max_connections_per_ip,
  };
}

/** Fastify's server options for the limits (Node enforces the headers and keep-alive timeouts). */
export function timeoutOptions(limits: ConnectionLimits): Partial<FastifyServerOptions> {
  return {
    keepAliveTimeout: limits.keepAliveTimeout,
    // Node's whole-request deadline and socket inactivity timer would cut slow honest uploads
    // and long server-side work; the body timeout below watches only the client.
    requestTimeout: 0,
    connectionTimeout: 0,
    http: {
      headersTimeout: limits.headersTimeout,
      requestTimeout: 0,
      // How often Node looks for connections past headersTimeout (its default is 30 s).
      connectionsCheckingInterval: Math.min(5_000, Math.max(25, Math.floor(limits.headersTimeout / 4) || 5_000)),
    },
  } as Partial<FastifyServerOptions>;
}

/**
 * Applies what Node's options do not cover: the connection caps, a deadline for a connection
 * that never sends a byte (Node's headersTimeout starts at the first one), and the body
 * inactivity timeout. Call before the server listens.
 */
export function applyConnectionLimits(app: FastifyInstance, limits: ConnectionLimits): void {
  const server: Server = app.server;
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  const perAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    if (limits.maxConnectionsPerIp > 0 && !admitFrom(perAddress, socket, limits.maxConnectionsPerIp)) return;
    if (limits.headersTimeout > 0) {
      // Node closes a socket whose timeout nobody handles; from the first byte, headersTimeout takes over.
      socket.setTimeout(limits.headersTimeout);
      socket.once('data', () => socket.setTimeout(0));
    }
  });
  // Node's own headersTimeout check also counts from the connection, on its own interval, and
  // can come first: then Fastify would answer 408 to a client that never sent a request. Such a
  // connection is closed without an answer, whichever deadline fires first.
  server.prependListener('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0) socket.destroy();
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!hasBody(request)) return;
    endUnreadBody(request, reply);
    if (limits.bodyTimeout > 0) watchBody(request, reply, limits.bodyTimeout);
  });
}

/**
 * A response that finishes before its request's body has arrived (an early refusal, a body
 * timeout) leaves Node's IncomingMessage waiting for bytes forever once the connection
 * closes: a handler still reading it would hang with its temp file. Destroying it then fails
 * the reader. (Not at once: that would cut the response's last bytes.)
 */
function endUnreadBody(request: FastifyRequest, reply: FastifyReply): void {
  reply.raw.once('finish', () => {
    const req = request.raw;
    if (req.complete || req.destroyed) return;
    if (req.socket.destroyed) req.destroy();
    else req.socket.once('close', () => req.destroy());
  });
}

/** Counts the socket against its address; false (and the socket closed) past the cap. */
function admitFrom(counts: Map<string, number>, socket: Socket, cap: number): boolean {
  const address = socket.remoteAddress ?? '';
  const open = counts.get(address) ?? 0;
  if (open >= cap) {
    socket.destroy();
    return false;
  }
  counts.set(address, open + 1);
  socket.once('close', () => {
    const left = (counts.get(address) ?? 1) - 1;
    if (left > 0) counts.set(address, left);
    else counts.delete(address);
  });
  return true;
}

/**
 * Fails a request whose client stops sending its body: every `ms` the socket must have
 * brought bytes, unless bytes already wait for the server to read them (the server is the
 * slow one then, e.g. storage applying backpressure). A client waiting for 100 Continue
 * sends nothing before it: its time starts when the 100 goes out. The 408 goes out with
 * Connection: close; the connection's end fails the body stream the handler reads, which
 * cleans up.
 */
function watchBody(request: FastifyRequest, reply: FastifyReply, ms: number): void {
  const req = request.raw;
  const socket = req.socket;
  let seen = socket.bytesRead;
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    if (req.complete || req.destroyed || reply.raw.writableEnded || socket.destroyed) return;
    if (socket.bytesRead !== seen || req.readableLength > 0) {
      seen = socket.bytesRead;
      timer = setTimeout(check, ms);
      return;
    }
    const message = `408 Request Timeout - no bytes of the request body for ${ms / 1000} s`;
    if (!reply.sent) sendHttpError(request, reply, new HttpError(408, { message }));
    else socket.destroy();
  };
  const start = () => {
    seen = socket.bytesRead;
    timer = setTimeout(check, ms);
  };
  if (!onContinue(req, start)) start();
  reply.raw.once('close', () => clearTimeout(timer));
}
