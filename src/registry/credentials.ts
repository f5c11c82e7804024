import { DOCKER_HUB_NAMES } from './reference';

/*
 * Credentials from a docker config JSON, the format of the cluster's pull secret
 * (`oc get secret/pull-secret -n openshift-config`, the node's /var/lib/kubelet/config.json)
 * and of podman's auth.json: `auths.<key>.auth` is base64 of `user:password`, or the entry has
 * `username` and `password`. A key is a registry host, optionally with a repository path
 * (podman: the most specific key wins), and old docker files write URLs such as
 * `https://index.docker.io/v1/`.
 */

/** A user name and password for one registry (or repository namespace). */
export interface Credential {
  readonly username: string;
  readonly password: string;
}

/** Credentials by normalised key: `host[:port]` or `host[:port]/path`. */
export type Credentials = ReadonlyMap<string, Credential>;

/** A docker config file that cannot be used; the message names the file and the entry. */
export class AuthFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthFileError';
  }
}

/** `https://index.docker.io/v1/` → `index.docker.io`; `quay.io/org/` → `quay.io/org`. */
export function normaliseAuthKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/v[12]\/?$/, '').replace(/\/+$/, '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function credentialOf(source: string, key: string, entry: unknown): Credential | undefined {
  const where = `${source}: auths[${JSON.stringify(key)}]`;
  if (!isObject(entry)) {
    throw new AuthFileError(`${where} must be an object`);
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new AuthFileError(`${where}.auth must be base64 of "user:password" (it decodes to text without ":")`);
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  // An entry with only an identity token or a credential helper elsewhere: nothing we can send.
  return undefined;
}

/**
 * The credentials of a docker config JSON text.
 *
 * @param source the file name, for messages
 * @throws AuthFileError when the text is not JSON or an entry is malformed
 */
export function parseAuthFile(source: string, text: string): Credentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AuthFileError(`${source} is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed) || (parsed.auths !== undefined && !isObject(parsed.auths))) {
    throw new AuthFileError(`${source} must be a docker config JSON object with an "auths" object`);
  }
  const credentials = new Map<string, Credential>();
  for (const [key, entry] of Object.entries(parsed.auths ?? {})) {
    const credential = credentialOf(source, key, entry);
    if (credential !== undefined) {
      credentials.set(normaliseAuthKey(key), credential);
    }
  }
  return credentials;
}

/**
 * The credential for a repository of a registry: the longest key that is the registry or the
 * registry followed by a leading part of the repository path. Docker Hub is found under any
 * of its names.
 */
export function credentialFor(credentials: Credentials, registry: string, repository: string): Credential | undefined {
  const hosts = DOCKER_HUB_NAMES.includes(registry) ? DOCKER_HUB_NAMES : [registry];
  const parts = repository.split('/');
  for (let length = parts.length; length >= 0; length--) {
    const path = parts.slice(0, length).join('/');
    for (const host of hosts) {
      const credential = credentials.get(path === '' ? host : `${host}/${path}`);
      if (credential !== undefined) return credential;
    }
  }
  return undefined;
}
