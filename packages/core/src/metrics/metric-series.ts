/**
 * Counters and histograms for the hot path. prom-client's own `inc(labels)`/`observe(labels)`
 * build a label key string (and, for a histogram, an object) on every call; here each label
 * set is a series object made once (when a route is registered, or the first time a status
 * code is seen), and a request only adds to its numbers. The families render themselves for
 * prom-client's Registry, which writes the text format.
 */
import type { Metric } from 'prom-client';

export type Labels = Readonly<Record<string, string>>;

interface RenderedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface RenderedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: RenderedValue[];
  aggregator: 'sum';
}

abstract class Family<S> {
  readonly aggregator = 'sum';
  private readonly known = new Map<string, { labels: Labels; series: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  abstract readonly type: 'counter' | 'histogram';

  /** The series of these labels (every label name given, nothing else), made on first use. */
  series(labels: Labels): S {
    const key = this.labelNames.map((n) => {
      const v = labels[n];
      if (v === undefined) throw new Error(`${this.name}: label ${n} is missing`);
      return v;
    });
    const k = key.join('\u0000');
    let entry = this.known.get(k);
    if (!entry) {
      entry = { labels: { ...labels }, series: this.create() };
      this.known.set(k, entry);
    }
    return entry.series;
  }

  protected abstract create(): S;
  protected abstract render(labels: Labels, series: S, out: RenderedValue[]): void;

  /** What prom-client's Registry asks a metric for at each scrape. */
  get(): RenderedMetric {
    const values: RenderedValue[] = [];
    for (const { labels, series } of this.known.values()) this.render(labels, series, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** This family as the Registry's `registerMetric` takes it. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}

export class CounterSeries {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class CounterFamily extends Family<CounterSeries> {
  readonly type = 'counter';
  protected create(): CounterSeries {
    return new CounterSeries();
  }
  protected render(labels: Labels, s: CounterSeries, out: RenderedValue[]): void {
    out.push({ labels: { ...labels }, value: s.value });
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  protected create(): HistogramSeries {
    return new HistogramSeries(this.buckets);
  }

  protected render(labels: Labels, s: HistogramSeries, out: RenderedValue[]): void {
    let cumulative = 0;
    this.buckets.forEach((le, i) => {
      cumulative += s.counts[i];
      out.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    out.push({ labels: { ...labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
    out.push({ labels: { ...labels }, value: s.sum, metricName: `${this.name}_sum` });
    out.push({ labels: { ...labels }, value: s.count, metricName: `${this.name}_count` });
  }
}
