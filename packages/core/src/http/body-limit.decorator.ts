import { RouteConfig } from '@nestjs/platform-fastify';

/** Raises (or lowers) the buffered body limit of one route: npm's JSON publish needs this. */
export const BodyLimit = (bytes: number): MethodDecorator => RouteConfig({ bodyLimit: bytes });
