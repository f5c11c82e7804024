export * from './boot-module-config';
export * from './day1-kernel-module';
export * from './kmm-machine-config-pool';
export * from './kmm-module';
export * from './max-unavailable';
