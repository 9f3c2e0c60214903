export * from './config-loader';
export * from './settings';
export * from './stowage-config';
