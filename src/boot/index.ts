export * from './payload';
export * from './systemd';
