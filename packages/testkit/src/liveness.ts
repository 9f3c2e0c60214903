import { readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { http } from './http';

export interface LivenessDuring<T> {
  result: T;
  /** The longest the event loop kept a probe from its answer, in milliseconds (see LoopMeter). */
  slowestMs: number;
  /** How many answers came back. */
  probes: number;
}

const MAIN_THREAD_STAT = `/proc/self/task/${process.pid}/stat`;
/** Linux's USER_HZ, the unit of a thread's utime and stime: 100 on every architecture Node runs on. */
const TICKS_PER_S = 100;

/**
 * CPU time used so far by the thread that runs the event loop, in milliseconds (10 ms steps).
 * Not process.cpuUsage(): that adds the garbage collector's helper threads and libuv's pool,
 * which work beside the loop without holding it, and on a loaded machine their CPU and a late
 * clock together passed for a held loop. Elsewhere than Linux, the process's CPU time.
 */
function loopThreadCpuMs(): number {
  try {
    return threadCpuMs(readFileSync(MAIN_THREAD_STAT, 'latin1'));
  } catch {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  }
}

/** A thread's CPU time (user and system) in milliseconds, from its /proc stat line. */
function threadCpuMs(stat: string): number {
  // Fields after the command name in parentheses: state is [0], utime [11], stime [12].
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

/**
 * CPU milliseconds the process has spent on its own work so far: the event loop's thread and
 * libuv's pool (zlib, crypto, file system), in 10 ms steps. What a request cost, without V8's
 * helper threads: their garbage collection and compiling grew by half or more from Node 20 to
 * 24 for the same work, and with the test process's heap. Elsewhere than Linux, the process's
 * CPU time.
 */
export function workCpuMs(): number {
  try {
    let ms = 0;
    for (const task of readdirSync('/proc/self/task')) {
      const name = task === String(process.pid) ? 'main' : readFileSync(`/proc/self/task/${task}/comm`, 'latin1').trim();
      if (name === 'main' || name === 'libuv-worker') ms += threadCpuMs(readFileSync(`/proc/self/task/${task}/stat`, 'latin1'));
    }
    return ms;
  } catch {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  }
}

/**
 * How long the event loop was held between two readings: of the clock time and the CPU time of
 * the loop's thread, the smaller, less the garbage collector's pauses. A held loop shows in both
 * times; a machine too busy to run the process only in the clock. The pauses are left out
 * because they measure the test process, not the server code: Jest keeps every test file's
 * modules, so a worker's heap grows to many times a server's, and on a loaded machine one full
 * collection of it held the loop for over half a second. Node reports a pause some time after
 * it happened, so each pause is matched to the interval it started in once the work is over
 * (`longestMs()`), not when the interval ends.
 */
class LoopMeter {
  private clock = performance.now();
  private cpu = loopThreadCpuMs();
  private readonly intervals: { start: number; end: number; cpuMs: number; expectedMs: number }[] = [];
  private readonly pauses: { start: number; durationMs: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.pauses.push({ start: entry.startTime, durationMs: entry.duration });
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Ends an interval here (and starts the next), `expectedMs` of its clock time excused. */
  mark(expectedMs = 0): void {
    const clock = performance.now();
    const cpu = loopThreadCpuMs();
    this.intervals.push({ start: this.clock, end: clock, cpuMs: cpu - this.cpu, expectedMs });
    this.clock = clock;
    this.cpu = cpu;
  }

  /** The longest interval's hold, once the pauses reported late have arrived; stops the meter. */
  async longestMs(): Promise<number> {
    await sleep(50);
    this.observer.disconnect();
    let longest = 0;
    for (const i of this.intervals) {
      const gcMs = this.pauses.filter((p) => p.start >= i.start && p.start < i.end).reduce((n, p) => n + p.durationMs, 0);
      longest = Math.max(longest, Math.min(i.end - i.start - i.expectedMs, i.cpuMs) - gcMs);
    }
    return longest;
  }
}

/**
 * Runs `work` while `/-/liveness` of the listening server at `baseUrl` is asked every 10 ms,
 * one request at a time, and reports how long a probe waited at worst (see `slowestMs`). A
 * probe is due 10 ms after the previous answer: a held event loop delays the timer as much as
 * the request, so it is counted wherever it falls. Every probe must answer 200.
 */
export async function livenessDuring<T>(baseUrl: string, work: () => Promise<T>): Promise<LivenessDuring<T>> {
  let running = true;
  let probes = 0;
  const meter = new LoopMeter();
  const probe = (async () => {
    while (running) {
      await sleep(10);
      const res = await http(baseUrl, { path: '/-/liveness' });
      if (res.status !== 200) throw new Error(`/-/liveness answered ${res.status}: ${res.text}`);
      meter.mark(10);
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
  return { result, slowestMs: await meter.longestMs(), probes };
}

/**
 * Runs `work` while a 1 ms interval timer ticks, and reports the longest the work held the event
 * loop between two ticks (see LoopMeter; CPU time in 10 ms steps on Linux).
 */
export async function longestHold<T>(work: () => Promise<T>): Promise<{ result: T; longestMs: number; ticks: number }> {
  let ticks = 0;
  const meter = new LoopMeter();
  const timer = setInterval(() => {
    meter.mark();
    ticks++;
  }, 1);
  let result: T;
  try {
    result = await work();
    meter.mark();
  } finally {
    clearInterval(timer);
  }
  return { result, longestMs: await meter.longestMs(), ticks };
}
