/**
 * A failure with the exact status, body and headers a client should see. Formats render
 * their own protocol's errors by constructing these; the core helpers below give GitLab's
 * REST spellings (`{"message":"404 Project Not Found"}`, `{"error":"file_name is invalid"}`).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    /** The status line's reason phrase, where clients show only that (mvn, NuGet): `Forbidden - Package protected.` */
    readonly reason?: string,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.name = 'HttpError';
  }

  withHeaders(headers: Record<string, string>): HttpError {
    return new HttpError(this.status, this.body, { ...this.headers, ...headers }, this.reason);
  }

  withReason(reason: string): HttpError {
    return new HttpError(this.status, this.body, this.headers, reason.replace(/[^\x20-\x7e]/g, ' ').slice(0, 300));
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** `{"message":"400 Bad request - <detail>"}`, GitLab's shape for most failures. */
export function gitlabMessage(status: number, detail?: string): { message: string } {
  const head = `${status} ${reasonPhrase(status)}`;
  return { message: detail ? `${head} - ${detail}` : head };
}

export const httpErrors = {
  badRequest: (detail?: string) => new HttpError(400, gitlabMessage(400, detail)),
  /** A parameter failed validation: `{"error":"<param> is invalid"}`. */
  invalidParam: (param: string, problem = 'is invalid') => new HttpError(400, { error: `${param} ${problem}` }),
  missingParam: (param: string) => new HttpError(400, { error: `${param} is missing` }),
  unauthorized: () => new HttpError(401, gitlabMessage(401)),
  forbidden: (detail?: string) => new HttpError(403, gitlabMessage(403, detail)),
  insufficientScope: () =>
    new HttpError(403, {
      error: 'insufficient_scope',
      error_description: 'The request requires higher privileges than provided by the access token.',
    }),
  /** `{"message":"404 Project Not Found"}`; without a subject, `404 Not Found`. */
  notFound: (subject?: string) => new HttpError(404, { message: subject ? `404 ${subject} Not Found` : '404 Not Found' }),
  conflict: (detail?: string) => new HttpError(409, gitlabMessage(409, detail)),
  payloadTooLarge: (detail?: string) => new HttpError(413, gitlabMessage(413, detail)),
  serviceUnavailable: (detail?: string) => new HttpError(503, gitlabMessage(503, detail)),
  validation: (fields: Record<string, string[]>) => new HttpError(400, { message: fields }),
};
