export * from './generator';
export * from './producer';
