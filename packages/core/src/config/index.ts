export * from './config-loader';
export * from './external-url';
export * from './rate-limits-config';
export * from './settings';
export * from './storage-sections';
export * from './stowage-config';
