// What the soak counts and prints: per-operation latencies and errors minute by minute, the
// server's memory and descriptors sampled every two seconds, and the closing summary with
// the trend of both after the warm-up minute.
import { readdir } from 'node:fs/promises';
import { loadavg } from 'node:os';

import { rssMb } from '../lib/harness.mjs';
import { quantile } from '../lib/measure.cjs';

/** Distinct kinds of error (operation + status) shown per minute, each with its first request and body. */
const ERROR_KINDS = 8;

export class Stats {
  #latencies = new Map();
  #errors = new Map();
  #errorCount = 0;
  /** One summary per finished minute. */
  minutes = [];
  totalErrors = 0;
  errorsByOp = new Map();

  /** A successful operation took `ms`. */
  record(op, ms) {
    if (!this.#latencies.has(op)) this.#latencies.set(op, []);
    this.#latencies.get(op).push(ms);
  }

  /** { op, request, status, body }: any answer that was not the expected one. */
  error(e) {
    this.#errorCount++;
    this.totalErrors++;
    this.errorsByOp.set(e.op, (this.errorsByOp.get(e.op) ?? 0) + 1);
    const kind = `${e.op} ${e.status}`;
    if (this.#errors.has(kind)) this.#errors.get(kind).count++;
    else if (this.#errors.size < ERROR_KINDS) this.#errors.set(kind, { ...e, count: 1 });
  }

  /** Closes the current minute with its resource samples; returns its summary. */
  closeMinute(index, seconds, resources) {
    const ops = new Map();
    for (const [op, ms] of [...this.#latencies].sort(([a], [b]) => a.localeCompare(b))) {
      ops.set(op, { n: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: quantile(ms, 1) });
    }
    const done = [...ops.values()].reduce((s, o) => s + o.n, 0);
    const all = [...this.#latencies.values()].flat();
    const minute = {
      index,
      seconds,
      ops,
      done,
      p50: quantile(all, 0.5),
      p99: quantile(all, 0.99),
      errors: this.#errorCount,
      samples: [...this.#errors.values()],
      resources,
      load: loadavg()[0],
    };
    this.minutes.push(minute);
    this.#latencies = new Map();
    this.#errors = new Map();
    this.#errorCount = 0;
    return minute;
  }
}

/** Open descriptors of a process: the entries of /proc/<pid>/fd. */
export async function openFds(pid) {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Samples RSS and descriptors of the named processes every `everyMs`; `take()` returns and resets the samples. */
export function resourceSampler(processes, everyMs = 2000) {
  let samples = new Map(processes.map((p) => [p.label, []]));
  const once = async () => {
    for (const p of processes) {
      try {
        samples.get(p.label).push({ rss: await rssMb(p.pid), fds: await openFds(p.pid) });
      } catch {
        // gone: the run notices it elsewhere
      }
    }
  };
  const timer = setInterval(() => void once(), everyMs);
  return {
    async take() {
      await once();
      const taken = samples;
      samples = new Map(processes.map((p) => [p.label, []]));
      return Object.fromEntries(
        [...taken].map(([label, s]) => {
          const mean = (k) => s.reduce((a, x) => a + x[k], 0) / s.length;
          const max = (k) => Math.max(...s.map((x) => x[k]));
          const end = s.at(-1) ?? {};
          return [label, { rss: mean('rss'), rssMax: max('rss'), rssEnd: end.rss, fds: mean('fds'), fdsMax: max('fds'), fdsEnd: end.fds }];
        }),
      );
    },
    stop: () => clearInterval(timer),
  };
}

const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '-');
const pad = (s, n) => String(s).padStart(n);

export function printMinute(m, total, extra) {
  const res = Object.entries(m.resources).map(
    ([label, r]) =>
      `${label} RSS ${r.rssEnd?.toFixed(0)} MB (mean ${r.rss.toFixed(0)}, max ${r.rssMax.toFixed(0)}), ` +
      `fds ${r.fdsEnd} (mean ${r.fds.toFixed(1)}, max ${r.fdsMax})`,
  );
  console.log(
    `\n── minute ${m.index}/${total}: ${m.done} ops (${(m.done / m.seconds).toFixed(0)}/s), errors ${m.errors}, ` +
      `p50 ${ms(m.p50)} ms, p99 ${ms(m.p99)} ms │ ${[...res, extra].join(' │ ')} │ load ${m.load.toFixed(1)}`,
  );
  console.log(`  ${'operation'.padEnd(24)}${pad('n', 7)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}`);
  for (const [op, o] of m.ops) console.log(`  ${op.padEnd(24)}${pad(o.n, 7)}${pad(ms(o.p50), 9)}${pad(ms(o.p99), 9)}${pad(ms(o.max), 9)}`);
  for (const e of m.samples) {
    console.log(`  ERROR ×${e.count} ${e.op}: first ${e.request} → ${e.status}`);
    console.log(`        ${String(e.body).replace(/\s+/g, ' ').slice(0, 600)}`);
  }
  const shown = m.samples.reduce((s, e) => s + e.count, 0);
  if (m.errors > shown) console.log(`  … and ${m.errors - shown} errors of other kinds this minute`);
}

/** Least-squares slope of `ys` over 0, 1, 2, … (per minute). */
function slope(ys) {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return den ? num / den : 0;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Whether a per-minute series is flat after the warm-up minute: the mean of the last third
 * against the first third, within `tolerance(first)`; and the slope.
 */
function trend(label, unit, series, tolerance) {
  const after = series.slice(1);
  if (after.length < 3) return `${label}: too short to judge (${after.length} minute(s) after the warm-up minute; 3 needed)`;
  const third = Math.floor(after.length / 3);
  const first = mean(after.slice(0, third));
  const last = mean(after.slice(-third));
  const delta = last - first;
  const allowed = tolerance(first);
  const flat = Math.abs(delta) <= allowed;
  const f = (v) => v.toFixed(unit === 'MB' ? 1 : 2);
  const signed = (v, digits) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
  return (
    `${label}: first third (min 2–${1 + third}) ${f(first)} ${unit}, ` +
    `last third (min ${series.length - third + 1}–${series.length}) ${f(last)} ${unit}, ` +
    `Δ ${signed(delta, unit === 'MB' ? 1 : 2)} ${unit}, slope ${signed(slope(after), 3)} ${unit}/min ` +
    `→ ${flat ? 'flat' : 'NOT flat'} (|Δ| ≤ ${allowed.toFixed(0)} ${unit})`
  );
}

export function printSummary(stats, { concurrency }) {
  const minutes = stats.minutes;
  const labels = Object.keys(minutes[0]?.resources ?? {});
  console.log('\n══ summary: per-minute series');
  const head = ['min', 'ops', 'ops/s', 'errors', 'p50 ms', 'p99 ms', ...labels.flatMap((l) => [`${l} RSS MB`, `${l} fds`]), 'load'];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const m of minutes) {
    const res = labels.flatMap((l) => [m.resources[l].rss.toFixed(1), m.resources[l].fds.toFixed(1)]);
    const row = [m.index, m.done, (m.done / m.seconds).toFixed(0), m.errors, ms(m.p50), ms(m.p99), ...res, m.load.toFixed(1)];
    console.log(`| ${row.join(' | ')} |`);
  }
  console.log('(RSS and fds: mean of the samples taken every 2 s in that minute)');

  console.log('\n══ summary: per operation (p99 ms by minute)');
  const ops = [...new Set(minutes.flatMap((m) => [...m.ops.keys()]))].sort();
  console.log(`| operation | n | ${minutes.map((m) => `m${m.index}`).join(' | ')} |`);
  console.log(`|---|---|${minutes.map(() => '---').join('|')}|`);
  for (const op of ops) {
    const n = minutes.reduce((s, m) => s + (m.ops.get(op)?.n ?? 0), 0);
    console.log(`| ${op} | ${n} | ${minutes.map((m) => ms(m.ops.get(op)?.p99)).join(' | ')} |`);
  }

  console.log('\n══ summary: flat after the warm-up minute?');
  for (const l of labels) {
    // RSS: within 10 % or 20 MB (GC swings); descriptors: the means move with what is in flight at each sample (an upload's
    // temp file, a pool connection), at most one per operation in flight.
    console.log(
      trend(
        `${l} RSS`,
        'MB',
        minutes.map((m) => m.resources[l].rss),
        (first) => Math.max(20, first * 0.1),
      ),
    );
    console.log(
      trend(
        `${l} fds`,
        'fds',
        minutes.map((m) => m.resources[l].fds),
        () => Math.max(4, concurrency),
      ),
    );
  }
  const byOp = [...stats.errorsByOp].map(([op, n]) => `${op} ${n}`).join(', ');
  console.log(`\nerrors: ${stats.totalErrors}${byOp ? ` (${byOp})` : ''}`);
}
