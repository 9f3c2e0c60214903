export * from './stowage-config';
export * from './settings';
export * from './config-loader';
