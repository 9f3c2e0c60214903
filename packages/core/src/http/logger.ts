import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger as Pino } from 'pino';

const SECRET_QUERY = /([?&](?:private_token|job_token|deploy_token|access_token|token)=)[^&]*/gi;

/** Request URLs with token query parameters blanked out: secrets never reach a log line. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]');
}

/** The server's logger; `destination` defaults to stdout (tests pass a stream they read). */
export function createLogger(level: string, destination?: DestinationStream): Pino {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["private-token"]',
        'req.headers["deploy-token"]',
        'req.headers["job-token"]',
        'req.headers.cookie',
        '*.token',
        '*.password',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url ? redactUrl(req.url) : req.url,
        remoteAddress: req.ip,
      }),
      err: pino.stdSerializers.err,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Nest's start-up chatter (one line per module and route): useful when debugging only. */
const NEST_BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** Nest's logger interface over the same pino instance Fastify logs requests with. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}

  private write(requested: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const level = requested === 'info' && context && NEST_BOOT_CONTEXTS.has(context) ? 'debug' : requested;
    if (message && typeof message === 'object' && !(message instanceof Error)) {
      this.pino[level]({ context, ...(message as object) }, (rest.length > 1 ? String(rest[0]) : undefined) as string);
    } else if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else {
      const stack = level === 'error' && rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
      this.pino[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
}
