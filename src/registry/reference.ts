/*
 * Image references as container tools resolve them: the first path component is a registry
 * only when it looks like a host (has a "." or a ":", or is "localhost"); otherwise the image
 * is on Docker Hub, whose API host is registry-1.docker.io and whose one-component names live
 * under "library/".
 */

/** The names Docker Hub is written as in references and auth files. */
export const DOCKER_HUB_NAMES: readonly string[] = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

/** An image reference split into what the distribution API needs. */
export interface ImageReference {
  /** The registry as written (or `docker.io` when none was), the key for credentials and `--insecure-registry`. */
  readonly registry: string;
  /** Host and optional port the API is asked at. */
  readonly apiHost: string;
  /** The repository name inside the registry (`library/` added for Docker Hub's official images). */
  readonly repository: string;
  /** The tag, or the digest (`sha256:...`) when the reference has one: what the manifest URL ends with. */
  readonly reference: string;
}

/** Whether `component` (the text before the first "/") names a registry host. */
function isRegistryHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/**
 * Splits an image reference (`[registry[:port]/]path[:tag][@digest]`). A reference with
 * neither tag nor digest means `latest`, as for podman.
 *
 * @throws Error when the reference has no repository path
 */
export function parseImageReference(text: string): ImageReference {
  let rest = text;
  let reference: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    // A digest wins over a tag: the tag is then only a label for people.
    reference = reference ?? rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const hasHost = slash > 0 && isRegistryHost(rest.slice(0, slash));
  const registry = hasHost ? rest.slice(0, slash) : 'docker.io';
  let repository = hasHost ? rest.slice(slash + 1) : rest;
  if (repository === '' || reference === '') {
    throw new Error(`${JSON.stringify(text)} is not an image reference ([registry[:port]/]path[:tag][@digest])`);
  }
  const dockerHub = DOCKER_HUB_NAMES.includes(registry);
  if (dockerHub && !repository.includes('/')) {
    repository = `library/${repository}`;
  }
  return { registry, apiHost: dockerHub ? DOCKER_HUB_API_HOST : registry, repository, reference: reference ?? 'latest' };
}
