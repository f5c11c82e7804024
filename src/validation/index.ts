export * from './error';
export * from './rules';
export * from './settings';
