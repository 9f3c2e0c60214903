import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger as Pino } from 'pino';

import { applyConnectionLimits, connectionLimits, timeoutOptions } from '../http/connection-limits';
import { HttpErrorFilter } from '../http/error.filter';
import { deferExpectContinue } from '../http/expect-continue';
import { configureFastify, fastifyOptions } from '../http/fastify-setup';
import { createLogger, PinoNestLogger } from '../http/logger';
import { enterRequestScope } from '../http/request-scope';
import { installHttpMetrics } from '../metrics/http-metrics';
import { StowageMetrics } from '../metrics/stowage-metrics';
import { StowageModule, type StowageModuleOptions } from './stowage.module';

export type StowageAppOptions = Omit<StowageModuleOptions, 'http'> & { logger?: Pino };

/** The HTTP server, initialised (migrations run, root ensured) but not yet listening. */
export async function createStowageApp(opts: StowageAppOptions): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger(opts.config.log.level);
  const limits = connectionLimits(opts.config.server);
  const adapter = new FastifyAdapter({
    ...fastifyOptions({ bodyLimit: opts.config.server.body_limit, trustProxy: opts.config.server.trust_proxy }),
    ...timeoutOptions(limits),
    loggerInstance: logger,
  } as ConstructorParameters<typeof FastifyAdapter>[0]);
  configureFastify(adapter.getInstance());
  applyConnectionLimits(adapter.getInstance(), limits);
  deferExpectContinue(adapter.getInstance());
  const metrics = new StowageMetrics();
  enterRequestScope(adapter.getInstance());
  installHttpMetrics(adapter.getInstance(), metrics);
  const app = await NestFactory.create<NestFastifyApplication>(StowageModule.forRoot({ ...opts, http: true, metrics }), adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  app.useGlobalFilters(new HttpErrorFilter());
  await app.init();
  return app;
}

/** A process that only runs background jobs (`stowage worker`). */
export async function createStowageWorker(opts: StowageAppOptions): Promise<INestApplicationContext> {
  const logger = opts.logger ?? createLogger(opts.config.log.level);
  const ctx = await NestFactory.createApplicationContext(StowageModule.forRoot({ ...opts, http: false, processJobs: true }), {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  await ctx.init();
  return ctx;
}
