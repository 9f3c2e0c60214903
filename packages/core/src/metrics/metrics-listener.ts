import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { StowageConfig } from '../config/stowage-config';
import { MonitoringAllowList } from '../health/monitoring-allowlist';
import type { StowageMetrics } from './stowage-metrics';

/**
 * `stowage worker`'s own `/-/metrics` (it has no HTTP app): a bare listener on
 * `monitoring.worker_metrics_port` that answers GET `/-/metrics` to `monitoring.ip_whitelist`
 * as the servers do, and a GitLab-shaped 404 to anything else.
 */
export async function listenForMetrics(metrics: StowageMetrics, config: StowageConfig, port: number): Promise<Server> {
  const allowList = new MonitoringAllowList(config);
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    const ip = req.socket.remoteAddress;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || path !== '/-/metrics' || !ip || !allowList.allows({ ip })) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: '404 Not Found' }));
      return;
    }
    metrics.scrape().then(
      (text) =>
        res
          .writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' })
          .end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: '500 Internal Server Error' })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, config.server.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The port a listener got (the configured one, or the one the OS chose for 0 in tests). */
export const listenerPort = (server: Server): number => (server.address() as AddressInfo).port;
