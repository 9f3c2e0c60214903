import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { sendHttpError, toHttpError } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** What a reason phrase may hold (Node refuses control characters; keep it one line). */
function reason(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 300);
}

/**
 * GitLab's JSON error bodies, plus the message as the HTTP reason phrase: twine (like
 * PyPI's own clients) shows only `<status> <reason>` unless run with --verbose, so
 * `400 File name has already been taken` is what a user sees instead of `400 Bad Request`.
 */
@Catch()
export class PypiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('pypi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const error = toHttpError(exception);
    if (error.status >= 500) {
      this.logger.error({ err: exception, reqId: request.id, route: request.routeOptions?.url }, 'request failed');
    } else {
      const body = error.body as { message?: unknown; error?: unknown } | null;
      const text =
        typeof body?.message === 'string' ? body.message.replace(/^\d{3} /, '') : typeof body?.error === 'string' ? body.error : '';
      if (text) reply.raw.statusMessage = reason(text);
    }
    sendHttpError(request, reply, error);
  }
}
