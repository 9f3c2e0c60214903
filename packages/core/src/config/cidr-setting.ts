import { isIP } from 'node:net';

import { Transform } from 'class-transformer';
import { IsArray, ValidateBy, type ValidationArguments } from 'class-validator';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `address` or `address/prefix`, IPv4 or IPv6 (GitLab's ip_whitelist entries); null if neither. */
export function parseCidr(value: string): Cidr | null {
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const version = isIP(address);
  if (!version) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = slash < 0 ? String(max) : value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return null;
  return { address, prefix: Number(prefix), family: version === 4 ? 'ipv4' : 'ipv6' };
}

const invalid = (v: unknown) => typeof v !== 'string' || parseCidr(v) === null;

/** A list of IP addresses and CIDR ranges; from the environment also `a, b` (comma-separated). */
export function CidrListSetting(): PropertyDecorator {
  return (target, key) => {
    Transform(({ value }) => (typeof value === 'string' && !value.trim().startsWith('[') ? value.split(/[\s,]+/).filter(Boolean) : value))(
      target,
      key,
    );
    IsArray()(target, key);
    ValidateBy({
      name: 'isCidrList',
      validator: {
        validate: (value: unknown) => Array.isArray(value) && !value.some(invalid),
        defaultMessage: (args?: ValidationArguments) =>
          `must list IP addresses or CIDR ranges such as 10.0.0.0/8; not: ${(args?.value as unknown[])
            .filter(invalid)
            .map((v) => JSON.stringify(v))
            .join(', ')}`,
      },
    })(target, key);
  };
}
