export * from './services';
export * from './test-api';
export * from './test-server';
export * from './embedded-snapshot';
