import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BlockList, isIP } from 'node:net';
import { parseCidr } from '../config/cidr-setting';
import { StowageConfig } from '../config/stowage-config';
import { httpErrors } from '../http/http-error';

/**
 * The address a request comes from. Behind a trusted proxy (`server.trust_proxy`) it is the last
 * X-Forwarded-For entry, the one the proxy itself appended: entries before it are the client's
 * to write, so `X-Forwarded-For: 127.0.0.1` sent through the proxy proves nothing.
 */
export function clientAddress(request: Pick<FastifyRequest, 'headers' | 'socket'>, trustProxy: boolean): string | undefined {
  const socket = request.socket.remoteAddress;
  if (!trustProxy) return socket;
  const forwarded = request.headers['x-forwarded-for'];
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').pop()?.trim();
  return last && isIP(last) ? last : socket;
}

/**
 * GitLab's `monitoring.ip_whitelist`: the health checks answer only clients on the list
 * (loopback by default); anyone else gets the 404 of a path that does not exist, as GitLab
 * answers, so dependency errors and the probes themselves stay private.
 */
@Injectable()
export class MonitoringAllowList implements CanActivate {
  private readonly allowed = new BlockList();
  private readonly trustProxy: boolean;

  constructor(@Inject(StowageConfig) config: StowageConfig) {
    this.trustProxy = config.server.trust_proxy;
    for (const entry of config.monitoring.ip_whitelist) {
      const cidr = parseCidr(entry)!; // validated with the config
      this.allowed.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
  }

  allows(request: Pick<FastifyRequest, 'headers' | 'socket'>): boolean {
    const address = clientAddress(request, this.trustProxy);
    return !!address && this.allowed.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.allows(context.switchToHttp().getRequest<FastifyRequest>())) return true;
    throw httpErrors.notFound();
  }
}
