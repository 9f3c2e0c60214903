import type { StowageConfig } from './stowage-config';

/**
 * This server's external base URL: `server.external_url`, the URL clients reach it at, without
 * a trailing slash (the loader always sets it, from the port when not configured). Every
 * absolute URL the server renders starts with it.
 */
export function externalBaseUrl(config: Pick<StowageConfig, 'server'>): string {
  return config.server.external_url;
}
