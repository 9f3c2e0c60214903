export * from './config-loader';
export * from './settings';
export * from './storage-sections';
export * from './stowage-config';
