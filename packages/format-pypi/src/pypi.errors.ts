import { Catch } from '@nestjs/common';
import { type HttpError, HttpErrorFilter } from '@stowage/core';
import type { FastifyReply } from 'fastify';

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
export class PypiErrorFilter extends HttpErrorFilter {
  protected override render(error: HttpError, reply: FastifyReply): HttpError {
    if (error.status < 500) {
      const body = error.body as { message?: unknown; error?: unknown } | null;
      const text =
        typeof body?.message === 'string' ? body.message.replace(/^\d{3} /, '') : typeof body?.error === 'string' ? body.error : '';
      if (text) reply.raw.statusMessage = reason(text);
    }
    return error;
  }
}
