import { ChildProcess, execFile, spawn } from 'child_process';
import { createHash, randomUUID, sign } from 'crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as http from 'http';
import * as https from 'https';
import { AddressInfo, createServer } from 'net';
import { join } from 'path';
import { promisify } from 'util';
import { gzipSync } from 'zlib';
import { commandExists, testWithOracle } from '../util/oracles';

/*
 * A real registry for the check-images tests: Debian's docker-registry (distribution 2.8) on
 * 127.0.0.1 at a free port, filled by skopeo from an OCI layout written here. Images are pushed
 * once to an open registry; the registries of the other auth modes (htpasswd, token, TLS)
 * serve the same storage folder. The token mode's issuer runs in this process: it checks the
 * user's password and signs RS256 JWTs with a key whose self-signed certificate (openssl) is the
 * registry's rootcertbundle.
 */

const execFileAsync = promisify(execFile);

export const REGISTRY_TOOLS = ['docker-registry', 'skopeo', 'htpasswd', 'openssl'];
export const withRegistry = () => testWithOracle(
  'a local registry (docker-registry, skopeo, htpasswd, openssl)', REGISTRY_TOOLS.every(commandExists),
  'install docker-registry skopeo apache2-utils openssl: see .ci/run');

export const USER = 'day1';
export const PASSWORD = 'pull-secret-password';

/** A free TCP port on the loopback (closed again before use, as every such helper does). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A tar archive of one regular file (ustar), enough for a layer. */
function tarOf(name: string, contents: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (text: string, offset: number, length: number) => header.write(text, offset, length, 'ascii');
  field(name, 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(`${contents.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  field('00000000000\0', 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  const sum = header.reduce((total, byte) => total + byte, 0);
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (contents.length % 512)) % 512);
  return Buffer.concat([header, contents, padding, Buffer.alloc(1024)]);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** An OCI image layout with one tiny image per ref name (each with its own content, so each its own digest). */
export function writeOciLayout(dir: string, refNames: readonly string[]): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = (bytes: Buffer) => {
    const digest = sha256(bytes);
    writeFileSync(join(dir, 'blobs', 'sha256', digest), bytes);
    return { digest: `sha256:${digest}`, size: bytes.length };
  };
  const manifests = refNames.map((refName) => {
    const tar = tarOf('opt/ref-name', Buffer.from(`${refName}\n`));
    const layer = blob(gzipSync(tar));
    const config = blob(Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] },
    })));
    const manifest = blob(Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    })));
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': refName } };
  });
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

export interface RegistryOptions {
  readonly storage: string;
  readonly work: string;
  readonly auth?: { readonly htpasswd: string } | { readonly token: TokenIssuer };
  readonly tls?: { readonly certificate: string; readonly key: string };
}

export interface Registry {
  readonly host: string;
  stop(): Promise<void>;
}

function registryConfig(port: number, options: RegistryOptions): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${options.storage}`,
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomUUID()}`,
  ];
  if (options.tls) lines.push('  tls:', `    certificate: ${options.tls.certificate}`, `    key: ${options.tls.key}`);
  if (options.auth && 'htpasswd' in options.auth) {
    lines.push('auth:', '  htpasswd:', '    realm: day1-test', `    path: ${options.auth.htpasswd}`);
  } else if (options.auth) {
    const issuer = options.auth.token;
    lines.push('auth:', '  token:', `    realm: ${issuer.realm}`, `    service: ${issuer.service}`, `    issuer: ${issuer.issuer}`,
      `    rootcertbundle: ${issuer.certificateFile}`);
  }
  return `${lines.join('\n')}\n`;
}

/** GET /v2/ until the registry answers (any status), or fails after 20 s. */
async function waitForRegistry(url: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${readFileSync(log, 'utf8')}`);
    const answered = await new Promise<boolean>((resolve) => {
      const request = (url.startsWith('https') ? https : http).get(url, { rejectUnauthorized: false }, (response: http.IncomingMessage) => {
        response.resume();
        resolve(true);
      });
      request.on('error', () => resolve(false));
    });
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry did not answer at ${url} within 20 s: ${readFileSync(log, 'utf8')}`);
}

/** Starts docker-registry on a free loopback port. */
export async function startRegistry(name: string, options: RegistryOptions): Promise<Registry> {
  const port = await freePort();
  const config = join(options.work, `${name}.yml`);
  const log = join(options.work, `${name}.log`);
  writeFileSync(config, registryConfig(port, options));
  const out = createWriteStream(log);
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  await waitForRegistry(`${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/v2/`, child, log);
  return {
    host: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/** skopeo copy of each ref name of the layout to `<registry>/<repository>:<tag>`; returns each image's digest as skopeo reads it back. */
export async function push(
  layout: string, registry: string, images: ReadonlyArray<{ refName: string; image: string }>,
): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const { refName, image } of images) {
    const destination = `docker://${registry}/${image}`;
    await execFileAsync('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:${refName}`, destination]);
    const { stdout } = await execFileAsync('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${registry}/${image}`]);
    digests.set(`${registry}/${image}`, stdout.trim());
  }
  return digests;
}

/** `htpasswd -Bbn` into a file. */
export async function htpasswdFile(file: string, user: string, password: string): Promise<void> {
  const { stdout } = await execFileAsync('htpasswd', ['-Bbn', user, password]);
  writeFileSync(file, stdout);
}

/** A self-signed certificate and its key (openssl), for a name and optional IP SAN. */
export async function selfSigned(dir: string, name: string, ip?: string): Promise<{ certificate: string; key: string }> {
  const certificate = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await execFileAsync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${name}`,
    '-keyout', key, '-out', certificate, ...(ip ? ['-addext', `subjectAltName=IP:${ip}`] : [])]);
  return { certificate, key };
}

export interface TokenIssuer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly certificateFile: string;
  /** Every token request: its query and whether it carried the right password. */
  readonly requests: Array<{ scope: string | null; service: string | null; authorised: boolean }>;
  stop(): Promise<void>;
}

/**
 * The token endpoint of the registry's `token` auth: Basic credentials required, RS256 JWT
 * granting what the scope asks, with the signing certificate in `x5c`. `field` says which key
 * of the answer carries the token (`token` or `access_token`, both in the wild).
 */
export async function startTokenIssuer(dir: string, field: 'token' | 'access_token'): Promise<TokenIssuer> {
  const { certificate, key } = await selfSigned(dir, `token-issuer-${field}`);
  const privateKey = readFileSync(key);
  const der = readFileSync(certificate, 'utf8').replace(/-----[^-]+-----|\s/g, '');
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const requests: TokenIssuer['requests'] = [];
  const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://token');
    const authorised = request.headers.authorization === expected;
    requests.push({ scope: url.searchParams.get('scope'), service: url.searchParams.get('service'), authorised });
    if (!authorised) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = (url.searchParams.getAll('scope')).map((scope) => {
      const [type, name, actions] = scope.split(':');
      return { type, name, actions: actions.split(',') };
    });
    const claims = { iss: 'day1-test-issuer', sub: USER, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const signingInput = `${b64url({ alg: 'RS256', typ: 'JWT', x5c: [der] })}.${b64url(claims)}`;
    const token = `${signingInput}.${sign('RSA-SHA256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ [field]: token, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service: 'day1-test-registry',
    issuer: 'day1-test-issuer',
    certificateFile: certificate,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
