import { Day1ValidationError } from './error';
import { checkNonEmptyString, checkYamlText } from './rules';

/*
 * What the GitOps delivery constructs write into their manifests as it is given: repository
 * URLs, revisions, folders, durations and server URLs.
 */

const DURATION_RE = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;
const REPOSITORY_PATH_SEGMENT_RE = /^[A-Za-z0-9._@+-]+$/;
const GIT_URL_RE = /^(http|https|ssh):\/\//;
const SERVER_URL_RE = /^https?:\/\//;

/** Text written into a manifest as it is: non-empty, no whitespace, read as text by every YAML reader. */
export function checkToken(field: string, value: unknown): string {
  const token = checkNonEmptyString(field, value);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(token)) {
    throw new Day1ValidationError(field, token, 'must not contain whitespace or control characters');
  }
  checkYamlText(field, token);
  return token;
}

/**
 * A folder of the Git repository, relative to its root (`.` for the root itself), without
 * `./`, `..` or a trailing `/`.
 */
export function checkRepositoryPath(field: string, value: unknown): string {
  const path = checkToken(field, value);
  if (path === '.') return path;
  const segments = path.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..' || !REPOSITORY_PATH_SEGMENT_RE.test(segment))) {
    throw new Day1ValidationError(field, value,
      'must be a folder of the repository relative to its root, such as "clusters/prod/dist" ("." for the root): '
      + 'segments of letters, digits and "._@+-", no leading "/" or "./", no "..", no empty segment or trailing "/"');
  }
  return path;
}

/** A Flux duration such as `10m` or `1h30m` (the pattern of the Flux CRDs). */
export function checkDuration(field: string, value: unknown): string {
  const duration = checkToken(field, value);
  if (!DURATION_RE.test(duration)) {
    throw new Day1ValidationError(field, value, 'must be a Go duration of ms, s, m and h, such as "10m" or "1h30m"');
  }
  return duration;
}

/** The URL of a Git repository as Flux's GitRepository takes it. */
export function checkGitUrl(field: string, value: unknown): string {
  return checkUrl(field, value, GIT_URL_RE, 'must start with http://, https:// or ssh:// (Flux takes no other form)');
}

/** The URL of a Kubernetes API server, as an Argo CD destination. */
export function checkServerUrl(field: string, value: unknown): string {
  return checkUrl(field, value, SERVER_URL_RE, 'must be the URL of a Kubernetes API server, such as "https://kubernetes.default.svc"');
}

/** A token (see checkToken) whose scheme `scheme` accepts. */
function checkUrl(field: string, value: unknown, scheme: RegExp, rule: string): string {
  const url = checkToken(field, value);
  if (!scheme.test(url)) {
    throw new Day1ValidationError(field, url, rule);
  }
  return url;
}
