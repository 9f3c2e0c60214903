import { setTimeout as sleep } from 'node:timers/promises';
import { http } from './http';

export interface LivenessDuring<T> {
  result: T;
  /** The longest a probe waited past its due time for its answer, in milliseconds. */
  slowestMs: number;
  /** How many answers came back. */
  probes: number;
}

/**
 * Runs `work` while `/-/liveness` of the listening server at `baseUrl` is asked every 10 ms,
 * one request at a time, and reports the longest wait: from when a probe was due (10 ms after
 * the previous answer) to its answer. A held event loop delays the timer as much as the
 * request, so it is counted wherever it falls. Every probe must answer 200.
 */
export async function livenessDuring<T>(baseUrl: string, work: () => Promise<T>): Promise<LivenessDuring<T>> {
  let running = true;
  let slowestMs = 0;
  let probes = 0;
  const probe = (async () => {
    let answered = performance.now();
    while (running) {
      await sleep(10);
      const res = await http(baseUrl, { path: '/-/liveness' });
      if (res.status !== 200) throw new Error(`/-/liveness answered ${res.status}: ${res.text}`);
      const now = performance.now();
      slowestMs = Math.max(slowestMs, now - answered - 10);
      answered = now;
      probes++;
    }
  })();
  let result: T;
  try {
    result = await work();
  } finally {
    // The probe in flight when the work ends counts too.
    running = false;
    await probe;
  }
  return { result, slowestMs, probes };
}
