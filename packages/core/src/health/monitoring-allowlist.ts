import { BlockList, isIP } from 'node:net';

import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { parseCidr } from '../config/cidr-setting';
import { StowageConfig } from '../config/stowage-config';
import { httpErrors } from '../http/http-error';

/**
 * GitLab's `monitoring.ip_whitelist`: the health checks answer only clients on the list
 * (loopback by default); anyone else gets the 404 of a path that does not exist, as GitLab
 * answers, so dependency errors and the probes themselves stay private.
 */
@Injectable()
export class MonitoringAllowList implements CanActivate {
  private readonly allowed = new BlockList();

  constructor(@Inject(StowageConfig) config: StowageConfig) {
    for (const entry of config.monitoring.ip_whitelist) {
      const cidr = parseCidr(entry)!; // validated with the config
      this.allowed.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
  }

  /** `request.ip`: behind `server.trust_proxy`, the address the proxy appended (fastify-setup.ts). */
  allows(request: Pick<FastifyRequest, 'ip'>): boolean {
    const address = request.ip;
    return !!address && this.allowed.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.allows(context.switchToHttp().getRequest<FastifyRequest>())) return true;
    throw httpErrors.notFound();
  }
}
