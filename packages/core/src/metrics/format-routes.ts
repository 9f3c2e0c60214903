import type { DynamicModule, Type } from '@nestjs/common';
import { MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';

type ModuleRef = Type<unknown> | DynamicModule | Promise<DynamicModule>;

/** The controllers a module declares, its imports' included. */
function controllersOf(module: ModuleRef, seen = new Set<unknown>()): Type<unknown>[] {
  if (!module || module instanceof Promise || seen.has(module)) return [];
  seen.add(module);
  const dynamic = 'module' in module ? module : undefined;
  const cls = dynamic ? dynamic.module : (module as Type<unknown>);
  const own = (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, cls) ?? []) as Type<unknown>[];
  const imports = [
    ...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, cls) ?? []) as ModuleRef[]),
    ...((dynamic?.imports ?? []) as ModuleRef[]),
  ];
  return [...own, ...(dynamic?.controllers ?? []), ...imports.flatMap((m) => controllersOf(m, seen))];
}

/** Every route handler of a controller class, inherited ones included. */
function routeHandlers(controller: Type<unknown>): object[] {
  const handlers = new Set<object>();
  for (let proto = controller.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const value = Object.getOwnPropertyDescriptor(proto, key)?.value;
      if (typeof value === 'function' && key !== 'constructor' && Reflect.hasMetadata(PATH_METADATA, value)) handlers.add(value);
    }
  }
  return [...handlers];
}

/**
 * Puts `format: <name>` into the Fastify route config of every route a format's module
 * declares (beside the handler's own `@RouteConfig`), so the metrics label a request by the
 * plugin that owns its controller, decided once per route rather than by reading URLs. Nest
 * copies a handler's metadata to the route it registers: call before the app is created.
 */
export function tagFormatRoutes(format: string, module: DynamicModule): void {
  for (const controller of controllersOf(module)) {
    for (const handler of routeHandlers(controller)) {
      const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) ?? {}) as Record<string, unknown>;
      Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, format }, handler);
    }
  }
}
