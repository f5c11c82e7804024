export * from './error';
export * from './rules';
export * from './settings';
export * from './yaml-text';
