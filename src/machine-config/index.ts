export * from './generator';
export * from './pool-merge';
export * from './producer';
