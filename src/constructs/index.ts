export * from './boot-module-config';
export * from './day1-kernel-module';
export { SyncWave } from './gitops';
export { KernelModuleHealthCheck, DEFAULT_HEALTH_CHECK_IMAGE, DEFAULT_HEALTH_CHECK_NAMESPACE } from './health-check';
export type { KernelModuleHealthCheckProps } from './health-check';
export * from './kmm-machine-config-pool';
export * from './kmm-module';
export * from './max-unavailable';
