import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { UpstreamError } from '../remote/upstream-http';
import { gitlabMessage, HttpError } from './http-error';

/** Turns any exception into a response a client understands; never leaks internals. */
export function toHttpError(exception: unknown): HttpError {
  if (exception instanceof HttpError) return exception;
  if (exception instanceof UpstreamError) return exception.toHttpError();
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (status === 404) return new HttpError(404, { message: '404 Not Found' });
    if (typeof response === 'object' && response && 'message' in response) {
      const message = (response as { message: unknown }).message;
      const detail = Array.isArray(message) ? message.join(', ') : String(message);
      return new HttpError(status, gitlabMessage(status, detail === exception.message ? undefined : detail));
    }
    return new HttpError(status, gitlabMessage(status));
  }
  // Errors raised by Fastify itself (body too large, malformed JSON, bad content type).
  const statusCode = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new HttpError(statusCode, gitlabMessage(statusCode, (exception as Error).message));
  }
  return new HttpError(500, gitlabMessage(500));
}

/**
 * Answers every exception (nothing leaks) and logs the 5xx with the request id. A format whose
 * clients read errors their own way extends it and overrides `render()`; the logging stays here.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const error = toHttpError(exception);
    if (error.status >= 500) {
      this.logger.error({ err: exception, reqId: request.id, method: request.method, route: request.routeOptions?.url }, 'request failed');
    }
    sendHttpError(request, reply, this.render(error, reply));
  }

  /** The error as this client reads it (GitLab's JSON shape here). */
  protected render(error: HttpError, _reply: FastifyReply): HttpError {
    return error;
  }
}

export function sendHttpError(request: FastifyRequest, reply: FastifyReply, error: HttpError): void {
  if (reply.sent) return;
  for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
  // An upload refused before its body was read: close rather than read gigabytes to discard.
  if (!request.raw.complete && !request.raw.readableEnded) reply.header('connection', 'close');
  reply.status(error.status);
  if (error.reason) reply.raw.statusMessage = error.reason;
  if (typeof error.body === 'string' || Buffer.isBuffer(error.body)) {
    if (!reply.hasHeader('content-type')) reply.type('text/plain; charset=utf-8');
    reply.send(error.body);
  } else {
    reply.type('application/json').send(JSON.stringify(error.body));
  }
}
