export * from './database.module';
export * from './schema';
export * from './embedded-database';
export * from './run-migrations';
export * from './column-types';
