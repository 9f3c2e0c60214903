import type { Agent, IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export interface CallResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
export declare function call(
  url: string,
  opts?: { method?: string; headers?: Record<string, string>; body?: Buffer | string | Readable; agent?: Agent },
): Promise<CallResult>;

export interface GetResult {
  status: number;
  headers: IncomingHttpHeaders;
  bytes: number;
  /** With `hash`: the body's sha256, hex. */
  sha?: string;
  /** Seconds from the request to the body's end. */
  s: number;
}
export declare function get(url: string, opts?: { agent?: Agent; headers?: Record<string, string>; hash?: boolean }): Promise<GetResult>;

export declare function inParallel(
  clients: number,
  limit: { count?: number; until?: number },
  work: (i: number) => Promise<unknown>,
): Promise<void>;
/** A case measured in rounds: what `round` reads and adds to. */
export interface RoundCase {
  label: string;
  url: string | ((i: number) => string);
  /** The status every answer must have (200). */
  want?: number;
  headers?: Record<string, string>;
  ms: number[];
  seconds: number;
  bytes?: number;
}
export declare function round(c: RoundCase, opts: { clients: number; requests: number; headers?: Record<string, string> }): Promise<void>;
export declare function quantile(values: number[], q: number): number;
export declare function latencies(ms: number[], opts?: { quantiles?: number[]; digits?: number }): string;
