import { createHash } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { parseChallenges } from './challenge';
import { Credential, credentialFor, Credentials } from './credentials';
import { ImageReference, parseImageReference } from './reference';

/*
 * Asks a registry whether a manifest exists, through the OCI distribution API: HEAD
 * /v2/<name>/manifests/<reference>, accepting every manifest type a pull accepts (a node pulls
 * whichever the tag points at). A 401 is answered the way registries expect: Basic with the
 * credentials of the auth file, or the Bearer token flow (the realm is asked for a token for
 * the challenge's scope, with the credentials when there are any, anonymously otherwise).
 * Every request has a bound on its whole duration, connection included.
 */

/** What HEAD accepts: OCI index and manifest, Docker manifest list and v2 manifest. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** How a client reaches registries. */
export interface RegistryClientOptions {
  /** Bound on each request, from connecting to the last byte, in milliseconds. */
  readonly timeoutMs: number;
  /** Credentials from the auth file; none: anonymous. */
  readonly credentials?: Credentials;
  /** Certificates (PEM) trusted for TLS; none: Node's defaults. */
  readonly ca?: readonly string[];
  /** `host` (any port) or `host:port` entries spoken to over plain http. */
  readonly insecureRegistries?: readonly string[];
}

/** The answer about one image reference. */
export type ManifestLookup =
  | { readonly state: 'present'; readonly digest: string }
  | { readonly state: 'missing' }
  /** Neither: the registry could not be asked or refused to say (unreachable, TLS, denied, a server error). */
  | { readonly state: 'unknown'; readonly reason: string };

interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The registry could not be asked; the message says why, in one line. */
class RequestError extends Error {}

/** Bodies we read are manifests and token answers: anything larger is not one. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export class RegistryClient {
  private readonly tokens = new Map<string, Promise<string>>();
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(private readonly options: RegistryClientOptions) {
    this.agents = {
      http: new http.Agent({ keepAlive: true }),
      https: new https.Agent({ keepAlive: true, ...(options.ca ? { ca: [...options.ca] } : {}) }),
    };
  }

  /** Closes kept-alive connections, so that the process can exit. */
  public close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Whether the manifest of `image` (a full reference with tag or digest) exists, and its digest. */
  public async lookup(image: string): Promise<ManifestLookup> {
    let ref: ImageReference;
    try {
      ref = parseImageReference(image);
    } catch (error) {
      return { state: 'unknown', reason: (error as Error).message };
    }
    const url = `${this.scheme(ref)}://${ref.apiHost}/v2/${ref.repository}/manifests/${ref.reference}`;
    try {
      const response = await this.authorised(ref, url, 'HEAD');
      return await this.answer(ref, url, response);
    } catch (error) {
      if (error instanceof RequestError) return { state: 'unknown', reason: error.message };
      throw error;
    }
  }

  private async answer(ref: ImageReference, url: string, response: Response): Promise<ManifestLookup> {
    if (response.status === 200) {
      const digest = response.headers['docker-content-digest'];
      if (typeof digest === 'string' && digest !== '') return { state: 'present', digest };
      // The header is optional for the registry: the digest of the bytes a GET returns is the same.
      const full = await this.authorised(ref, url, 'GET');
      if (full.status !== 200) throw new RequestError(`${url} answered HEAD with 200 but GET with ${full.status}`);
      return { state: 'present', digest: `sha256:${createHash('sha256').update(full.body).digest('hex')}` };
    }
    if (response.status === 404) return { state: 'missing' };
    if (response.status === 401 || response.status === 403) {
      const credential = credentialFor(this.options.credentials ?? new Map(), ref.registry, ref.repository);
      throw new RequestError(`${ref.registry} denied access to ${ref.repository} (HTTP ${response.status}) `
        + (credential ? `with the credentials of --authfile for ${ref.registry}` : `without credentials: no --authfile entry for ${ref.registry}`));
    }
    throw new RequestError(`${url} answered HTTP ${response.status}`);
  }

  private scheme(ref: ImageReference): 'http' | 'https' {
    const host = ref.registry.replace(/:\d+$/, '');
    const insecure = (this.options.insecureRegistries ?? []).some((entry) => entry === ref.registry || entry === host);
    return insecure ? 'http' : 'https';
  }

  /** The request, answered once more with credentials or a token when the registry asks for them. */
  private async authorised(ref: ImageReference, url: string, method: 'HEAD' | 'GET'): Promise<Response> {
    const headers = { Accept: MANIFEST_MEDIA_TYPES.join(', ') };
    const first = await this.request(url, method, headers);
    if (first.status !== 401) return first;
    const credential = credentialFor(this.options.credentials ?? new Map(), ref.registry, ref.repository);
    const challenges = parseChallenges(String(first.headers['www-authenticate'] ?? ''));
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer !== undefined) {
      const realm = bearer.params.realm;
      if (!realm) throw new RequestError(`${ref.registry} asked for a Bearer token without a realm`);
      const scope = bearer.params.scope ?? `repository:${ref.repository}:pull`;
      const token = await this.token(realm, bearer.params.service, scope, credential);
      return this.request(url, method, { ...headers, Authorization: `Bearer ${token}` });
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic') && credential !== undefined) {
      return this.request(url, method, { ...headers, Authorization: basic(credential) });
    }
    return first;
  }

  /** A token for the scope; one request per realm, service, scope and user for the whole run. */
  private token(realm: string, service: string | undefined, scope: string, credential: Credential | undefined): Promise<string> {
    const key = JSON.stringify([realm, service, scope, credential?.username]);
    let token = this.tokens.get(key);
    if (token === undefined) {
      token = this.fetchToken(realm, service, scope, credential);
      this.tokens.set(key, token);
    }
    return token;
  }

  private async fetchToken(realm: string, service: string | undefined, scope: string, credential: Credential | undefined): Promise<string> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RequestError(`the token realm ${JSON.stringify(realm)} is not a URL`);
    }
    if (service !== undefined) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const response = await this.request(url.toString(), 'GET', credential ? { Authorization: basic(credential) } : {});
    if (response.status !== 200) {
      throw new RequestError(`the token service ${url.origin}${url.pathname} answered HTTP ${response.status} for scope ${scope}`
        + (credential ? ` with user ${JSON.stringify(credential.username)}` : ' without credentials'));
    }
    let answer: { token?: unknown; access_token?: unknown };
    try {
      answer = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new RequestError(`the token service ${url.origin}${url.pathname} answered something that is not JSON`);
    }
    const token = typeof answer?.token === 'string' && answer.token !== '' ? answer.token : answer?.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RequestError(`the token service ${url.origin}${url.pathname} answered without "token" or "access_token"`);
    }
    return token;
  }

  /** One request with the time bound; network and TLS failures become a RequestError saying what to check. */
  private request(url: string, method: string, headers: Record<string, string>): Promise<Response> {
    const secure = url.startsWith('https:');
    const seconds = this.options.timeoutMs / 1000;
    return new Promise<Response>((resolve, reject) => {
      const request = (secure ? https : http).request(url, {
        method,
        headers: { 'User-Agent': 'day1-utility-check-images', ...headers },
        agent: secure ? this.agents.https : this.agents.http,
      }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) request.destroy(new RequestError(`${url} answered more than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', (error) => reject(describeFailure(url, error)));
      });
      const timer = setTimeout(() => request.destroy(new RequestError(`no answer from ${new URL(url).host} within ${seconds} s (--timeout)`)), this.options.timeoutMs);
      request.on('close', () => clearTimeout(timer));
      request.on('error', (error) => reject(describeFailure(url, error)));
      request.end();
    });
  }
}

function basic(credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64')}`;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO/;

function describeFailure(url: string, error: Error): RequestError {
  if (error instanceof RequestError) return error;
  const host = new URL(url).host;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (TLS_CODES.test(code) || /certificate|SSL|TLS/i.test(error.message)) {
    return new RequestError(`TLS with ${host} failed: ${error.message} (trust its CA with --ca-file, or use --insecure-registry for plain http)`);
  }
  return new RequestError(`cannot reach ${host}: ${error.message}`);
}
