import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';

import type { CounterSeries, HistogramSeries } from './metric-series';
import type { StowageMetrics } from './stowage-metrics';

/** The format label of routes no format plugin owns (the REST API, the web UI, probes). */
export const CORE_ROUTES = 'core';
/** The route label of requests no route matched (Fastify's 404). */
export const UNMATCHED_ROUTE = 'unmatched';

/** One format's byte counters, shared by all its routes. */
interface Traffic {
  received: CounterSeries;
  sent: CounterSeries;
}

/** The series of one route pattern and method: made once, then each answer only adds to numbers. */
class RouteSeries {
  private readonly statuses = new Map<number, CounterSeries>();
  private readonly duration: HistogramSeries;

  constructor(
    private readonly metrics: StowageMetrics,
    private readonly labels: { format: string; method: string; route: string },
    private readonly traffic: Traffic,
  ) {
    this.duration = metrics.httpDuration.series(labels);
  }

  record(request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    let requests = this.statuses.get(status);
    if (!requests) {
      requests = this.metrics.httpRequests.series({ ...this.labels, status: String(status) });
      this.statuses.set(status, requests);
    }
    requests.value++;
    this.duration.observe(reply.elapsedTime / 1000);
    // A body counts once all of it arrived (Node parsed the whole message). A chunked body
    // declares no length and is not counted; package clients send a Content-Length.
    const declared = request.headers['content-length'];
    if (declared !== undefined && request.raw.complete) this.traffic.received.value += Number(declared) || 0;
    // An answer counts once all of it went out; HEAD declares the length of a body it never sends.
    if (request.method !== 'HEAD' && reply.raw.writableFinished) {
      const length = reply.getHeader('content-length');
      if (length !== undefined) this.traffic.sent.value += Number(length) || 0;
    }
  }
}

/**
 * Counts every answer per route: an `onResponse` hook on each route as it is registered (so
 * its labels are bound once, and the format is the one the route's controller was tagged with
 * by `tagFormatRoutes`), and one global hook for requests no route matched. Install before
 * any route is added.
 */
export function installHttpMetrics(app: FastifyInstance, metrics: StowageMetrics): void {
  const traffic = new Map<string, Traffic>();
  const trafficOf = (format: string): Traffic => {
    let t = traffic.get(format);
    if (!t) {
      t = { received: metrics.httpReceivedBytes.series({ format }), sent: metrics.httpSentBytes.series({ format }) };
      traffic.set(format, t);
    }
    return t;
  };
  /** Series of one route pattern by request method (a route may take several). */
  const observer = (format: string, route: string): onResponseHookHandler => {
    const byMethod: Record<string, RouteSeries> = Object.create(null);
    return function observeAnswer(request, reply, done) {
      const method = request.method;
      const series = (byMethod[method] ??= new RouteSeries(metrics, { format, method, route }, trafficOf(format)));
      series.record(request, reply);
      done();
    };
  };

  app.addHook('onRoute', (route) => {
    const format = (route.config as { format?: unknown } | undefined)?.format;
    const observe = observer(typeof format === 'string' ? format : CORE_ROUTES, route.url);
    const own = route.onResponse;
    route.onResponse = own === undefined ? [observe] : [...(Array.isArray(own) ? own : [own]), observe];
  });

  const unmatched = observer(CORE_ROUTES, UNMATCHED_ROUTE);
  app.addHook('onResponse', function observeUnmatched(this: FastifyInstance, request, reply, done) {
    if (request.is404) unmatched.call(this, request, reply, done);
    else done();
  });
}
