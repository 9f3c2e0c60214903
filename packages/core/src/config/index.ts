export * from './config-loader';
export * from './external-url';
export * from './settings';
export * from './storage-sections';
export * from './stowage-config';
export * from './rate-limits-config';
