import { Catch } from '@nestjs/common';
import { HttpError, HttpErrorFilter } from '@stowage/core';

/** A GOPROXY error: the go command prints a text/plain body as the "server response". */
export function goError(status: number, message: string): HttpError {
  return new HttpError(status, `${message}\n`);
}

export const goNotFound = (what: string) => goError(404, `not found: ${what}`);

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  const o = (body ?? {}) as { message?: unknown; error?: unknown; error_description?: unknown };
  const text = o.error_description ?? o.message ?? o.error;
  return `${typeof text === 'string' ? text : JSON.stringify(body)}\n`;
}

/**
 * Renders every failure on the go routes, the access guard's included, as plain text with
 * the same status and headers (the 401's Basic challenge stays, so go retries with netrc).
 */
@Catch()
export class GoErrorFilter extends HttpErrorFilter {
  protected override render(error: HttpError): HttpError {
    return new HttpError(error.status, bodyText(error.body), error.headers);
  }
}
