import { setTimeout as sleep } from 'node:timers/promises';
import { http } from './http';

export interface LivenessDuring<T> {
  result: T;
  /**
   * The longest the event loop kept a probe from its answer, in milliseconds: of the clock time
   * from when a probe was due to its answer, and the CPU time this process used meanwhile, the
   * smaller. A held loop shows in both; a machine too busy to run the process only in the first,
   * and threads working beside the loop only in the second.
   */
  slowestMs: number;
  /** How many answers came back. */
  probes: number;
}

const cpuMs = (since?: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

/**
 * Runs `work` while `/-/liveness` of the listening server at `baseUrl` is asked every 10 ms,
 * one request at a time, and reports how long a probe waited at worst (see `slowestMs`). A
 * probe is due 10 ms after the previous answer: a held event loop delays the timer as much as
 * the request, so it is counted wherever it falls. Every probe must answer 200.
 */
export async function livenessDuring<T>(baseUrl: string, work: () => Promise<T>): Promise<LivenessDuring<T>> {
  let running = true;
  let slowestMs = 0;
  let probes = 0;
  const probe = (async () => {
    let answered = performance.now();
    let cpu = process.cpuUsage();
    while (running) {
      await sleep(10);
      const res = await http(baseUrl, { path: '/-/liveness' });
      if (res.status !== 200) throw new Error(`/-/liveness answered ${res.status}: ${res.text}`);
      const now = performance.now();
      slowestMs = Math.max(slowestMs, Math.min(now - answered - 10, cpuMs(cpu)));
      answered = now;
      cpu = process.cpuUsage();
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

/**
 * Runs `work` while a 1 ms interval timer ticks, and reports the most CPU time this process
 * used between two ticks: how long the work held the event loop at a stretch. CPU time, not
 * the clock, so a busy machine that leaves the process waiting does not count.
 */
export async function longestHold<T>(work: () => Promise<T>): Promise<{ result: T; longestMs: number; ticks: number }> {
  let last = process.cpuUsage();
  let longestMs = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    longestMs = Math.max(longestMs, cpuMs(last));
    last = process.cpuUsage();
    ticks++;
  }, 1);
  try {
    last = process.cpuUsage();
    const result = await work();
    return { result, longestMs: Math.max(longestMs, cpuMs(last)), ticks };
  } finally {
    clearInterval(timer);
  }
}
