import 'reflect-metadata';

import { type ArgumentsHost, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { HttpErrorFilter } from '../src/http/error.filter';
import { HttpError } from '../src/http/http-error';

// Formats that answer errors their own way (Go's plain text, PyPI's reason phrase) extend the
// core filter and override render(); answering and 5xx logging stay in core.

class TextErrors extends HttpErrorFilter {
  protected override render(error: HttpError): HttpError {
    return new HttpError(error.status, `as text: ${error.status}\n`, error.headers);
  }
}

function fakeHost() {
  const sent: { status?: number; body?: unknown } = {};
  const reply = {
    sent: false,
    header: () => reply,
    hasHeader: () => false,
    type: () => reply,
    status: (s: number) => ((sent.status = s), reply),
    send: (b: unknown) => ((sent.body = b), reply),
  } as unknown as FastifyReply;
  const request = { id: 'req-1', method: 'GET', raw: { complete: true, readableEnded: true }, routeOptions: { url: '/x' } };
  const host = { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }) } as unknown as ArgumentsHost;
  return { host, sent };
}

describe('HttpErrorFilter', () => {
  afterEach(() => jest.restoreAllMocks());

  it("answers in the subclass's shape and logs a 5xx once, with the request id", () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { host, sent } = fakeHost();
    new TextErrors().catch(new Error('boom'), host);
    expect(sent).toEqual({ status: 500, body: 'as text: 500\n' });
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0][0]).toMatchObject({ reqId: 'req-1', method: 'GET' });
  });

  it('does not log a 4xx', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { host, sent } = fakeHost();
    new TextErrors().catch(new HttpError(404, { message: '404 Not Found' }), host);
    expect(sent.status).toBe(404);
    expect(logged).not.toHaveBeenCalled();
  });
});
