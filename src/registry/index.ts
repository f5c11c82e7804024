export { parseChallenges } from './challenge';
export type { Challenge } from './challenge';
export { MANIFEST_MEDIA_TYPES, RegistryClient } from './client';
export type { ManifestLookup, RegistryClientOptions } from './client';
export { AuthFileError, credentialFor, normaliseAuthKey, parseAuthFile } from './credentials';
export type { Credential, Credentials } from './credentials';
export { DOCKER_HUB_NAMES, parseImageReference } from './reference';
export type { ImageReference } from './reference';
