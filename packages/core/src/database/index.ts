export * from './access-cache';
export * from './access-epoch';
export * from './column-types';
export * from './database.module';
export * from './embedded-database';
export * from './prepared';
export * from './run-migrations';
export * from './schema';
