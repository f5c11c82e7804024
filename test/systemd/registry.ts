import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';

/*
 * Registries on the host's loopback for the real-systemd tier: Debian's `docker-registry`
 * (distribution 2.8) at a free port of 127.0.0.1, open or behind htpasswd basic auth, and a
 * listener that accepts connections and never answers. The nspawn guest shares the host's
 * network namespace, so a node reaches them at the same address. Each is started by the test
 * and stopped by its pid. What a registry served is read back from its own request log.
 */

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/** Basic-auth credentials of a registry. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** One request the registry answered, from its log. */
export interface RegistryRequest {
  /** Host wall clock, ms since the epoch. */
  readonly at: number;
  readonly method: string;
  readonly uri: string;
  readonly status: number;
}

const endpoints = new Set<Endpoint>();

/** Every endpoint started by this process (a node's podman marks them insecure: plain HTTP). */
export function loopbackEndpoints(): ReadonlySet<Endpoint> {
  return endpoints;
}

function track<T extends Endpoint>(endpoint: T): T {
  endpoints.add(endpoint);
  return endpoint;
}

/** A free TCP port of 127.0.0.1 (the kernel's pick; released before it is returned). */
export function freePort(): number {
  // A child process, because the tests run synchronously and the kernel's pick must be read now.
  const out = execFileSync(process.execPath, ['-e', `
    const s = require('net').createServer();
    s.listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close(); });
  `], { encoding: 'utf8' });
  return Number(out);
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function stopPid(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(child.pid, 0);
    } catch {
      return;
    }
    sleepMs(100);
  }
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Something listening on 127.0.0.1 that a node's registries.conf must mark insecure. */
export interface Endpoint {
  /** host:port, the registry part of an image reference. */
  readonly host: string;
  stop(): void;
}

/** A running docker-registry. */
export class Registry implements Endpoint {
  public readonly host: string;
  private stopped = false;

  constructor(
    private readonly child: ChildProcess,
    public readonly port: number,
    public readonly dir: string,
    private readonly logFile: string,
    public readonly credentials?: Credentials,
  ) {
    this.host = `127.0.0.1:${port}`;
  }

  /** The requests it answered, in order; only those between `from` and `to` (host ms) when given. */
  public requests(from = 0, to = Number.MAX_SAFE_INTEGER): RegistryRequest[] {
    const requests: RegistryRequest[] = [];
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (typeof entry['http.request.uri'] !== 'string') continue;
      // A request refused by basic auth is logged as this warning only, without a status.
      const refused = String(entry.msg).startsWith('error authorizing context');
      if (entry['http.response.status'] === undefined && !refused) continue;
      const at = Date.parse(String(entry.time));
      if (at < from || at > to) continue;
      requests.push({
        at,
        method: String(entry['http.request.method']),
        uri: String(entry['http.request.uri']),
        status: refused ? 401 : Number(entry['http.response.status']),
      });
    }
    return requests;
  }

  /**
   * The images whose manifest it served by tag (what a pull fetches), as `host/repo:tag`,
   * between `from` and `to`; digests (a manifest list's entries) are left out.
   */
  public manifestsServed(from?: number, to?: number): string[] {
    return this.requests(from, to)
      .filter((r) => r.method === 'GET' && r.status === 200)
      .map((r) => /^\/v2\/(.+)\/manifests\/([^/:]+)$/.exec(r.uri))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${this.host}/${m[1]}:${m[2]}`);
  }

  public stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    stopPid(this.child);
    if (process.env.KMM_DAY1_TIER_KEEP === undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}

function waitForPort(port: number, child: ChildProcess, logFile: string): void {
  for (let i = 0; i < 100; i++) {
    const probe = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore' });
    if (probe.status === 0) return;
    if (child.exitCode !== null) break;
    sleepMs(100);
  }
  throw new Error(`the registry on port ${port} did not come up:\n${readFileSync(logFile, 'utf8')}`);
}

/** Options of `startRegistry`. */
export interface RegistryOptions {
  /** Basic auth (htpasswd, bcrypt) with these credentials; open when not given. */
  readonly credentials?: Credentials;
}

/** Starts docker-registry at a free port of 127.0.0.1, storage in a temporary directory. */
export function startRegistry(options: RegistryOptions = {}): Registry {
  const dir = mkdtempSync('/var/tmp/kmm-day1-registry-');
  const logFile = join(dir, 'registry.log');
  let auth = '';
  if (options.credentials !== undefined) {
    const htpasswd = spawnSync('htpasswd', ['-Bbn', options.credentials.username, options.credentials.password], { encoding: 'utf8' });
    if (htpasswd.status !== 0) throw new Error(`htpasswd failed: ${htpasswd.stderr}`);
    writeFileSync(join(dir, 'htpasswd'), htpasswd.stdout);
    auth = `auth:\n  htpasswd:\n    realm: kmm-day1-tier\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  mkdirSync(join(dir, 'data'));
  for (let attempt = 1; ; attempt++) {
    const port = freePort();
    writeFileSync(join(dir, 'config.yml'), [
      'version: 0.1',
      'log:\n  level: info\n  formatter: json\n  accesslog:\n    disabled: true',
      `storage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true`,
      `http:\n  addr: 127.0.0.1:${port}\n  secret: kmm-day1-tier`,
      auth,
    ].join('\n'));
    const log = openSync(logFile, 'a');
    const child = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    child.unref();
    try {
      waitForPort(port, child, logFile);
      return track(new Registry(child, port, dir, logFile, options.credentials));
    } catch (error) {
      stopPid(child);
      // Another process may have taken the port between the pick and the start.
      if (attempt >= 3) throw error;
    }
  }
}

/**
 * A listener on a free port of 127.0.0.1 that accepts every connection and never answers:
 * a registry that hangs. Its own process, so that it accepts while the tests block.
 */
export function startSilentRegistry(): Endpoint {
  const port = freePort();
  const child = spawn(process.execPath, ['-e', `
    const held = [];
    require('net').createServer((socket) => { held.push(socket); socket.on('error', () => {}); })
      .listen(${port}, '127.0.0.1', () => process.stdout.write('listening\\n'));
  `], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  child.unref();
  (child.stdout as NodeJS.ReadableStream & { unref?: () => void }).unref?.();
  waitForPort(port, child, '/dev/null');
  return track({ host: `127.0.0.1:${port}`, stop: () => stopPid(child) });
}

/** An address of 127.0.0.1 where nothing listens: a registry that is down (connection refused). */
export function downRegistry(): Endpoint {
  return track({ host: `127.0.0.1:${freePort()}`, stop: () => undefined });
}

/** The node's pull secret in kubelet format (`auths` by registry host, `auth` = base64 of user:password). */
export function kubeletAuthfile(registries: readonly { host: string; credentials?: Credentials }[]): string {
  const auths: Record<string, { auth: string }> = {};
  for (const registry of registries) {
    if (registry.credentials !== undefined) {
      const { username, password } = registry.credentials;
      auths[registry.host] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
    }
  }
  return `${JSON.stringify({ auths })}\n`;
}
