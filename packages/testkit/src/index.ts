export * from './services';
export * from './test-api';
export * from './test-server';
export * from './embedded-snapshot';
export { startTestObjectStore, type TestObjectStore } from './object-store';
export * from './archives';
export * from './files';
export * from './http';
export * from './raw-socket';
