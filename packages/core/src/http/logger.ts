import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger as Pino } from 'pino';
import { prettyFactory } from 'pino-pretty';

import { redactLogLine, redactUrl } from './log-redaction';

export { redactUrl } from './log-redaction';

/**
 * pino's error serializer, with Buffer properties as text: a client error carries the raw
 * request (`rawPacket`, headers and all), which as bytes no redaction could read.
 */
function serializeError(err: Error): Record<string, unknown> {
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(out)) {
    if (Buffer.isBuffer(value)) out[key] = value.toString('latin1', 0, 8192);
  }
  return out;
}

/**
 * pino-pretty's formatting, applied line by line to what pino writes: each line reaching it has
 * passed `redactLogLine` already (pino's streamWrite hook runs before the destination).
 */
function prettyDestination(target: DestinationStream, colorize: boolean): DestinationStream {
  const format = prettyFactory({ colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return { write: (line: string) => target.write(format(line)) };
}

export interface LoggerOptions {
  /** Human-readable lines instead of JSON; by default, when stdout is a terminal. */
  pretty?: boolean;
}

/**
 * The server's logger; `destination` defaults to stdout (tests pass a stream they read). Every
 * line passes `redactLogLine` on its way out, so no credential a request carries is written,
 * whatever logged it (request lines, 5xx errors with their causes, Nest's own messages). JSON
 * lines, except on a terminal, where pino-pretty makes them readable (redacted all the same).
 */
export function createLogger(level: string, destination?: DestinationStream, { pretty }: LoggerOptions = {}): Pino {
  const options: pino.LoggerOptions = {
    level,
    hooks: { streamWrite: redactLogLine },
    serializers: {
      // Headers are left out on purpose: the request line needs none of them.
      req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url ? redactUrl(req.url) : req.url,
        remoteAddress: req.ip,
      }),
      err: serializeError,
    },
  };
  const toTerminal = !destination && process.stdout.isTTY === true;
  if (pretty ?? toTerminal) return pino(options, prettyDestination(destination ?? pino.destination({ dest: 1, sync: true }), toTerminal));
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
