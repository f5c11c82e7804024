import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import {
  chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync,
  statSync, writeFileSync,
} from 'fs';
import { release } from 'os';
import { dirname, join } from 'path';
import { BUSYBOX } from './images';
import { applyPool, systemctlRoot } from './pool';
import { Credentials, Endpoint, loopbackEndpoints, REGISTRY_BINARY } from './registry';
import { mergeMachineConfigs, MergedMachineConfigs, MergeMachineConfigsOptions, ResolvedMachineConfigOptions } from '../../src/machine-config';
import { kernelReleaseTag } from '../../src/validation';
import { commandExists, testWithOracle } from '../util/oracles';

/*
 * The real-systemd tier: a Debian bookworm root with podman and crun (test/systemd/root.sh
 * builds it once and caches it as a tarball) booted with systemd-nspawn, systemd 252 as PID 1,
 * sharing the host's network namespace so that registries on the host's 127.0.0.1 (registry.ts)
 * are the node's registries. Per scenario the root is copied, a pool of MachineConfigs is
 * written into it as Ignition and the MCO would, and stand-ins are added only for what cannot
 * run here (node/: NetworkManager and its dispatcher, crio-wipe; the worker image's entrypoint
 * stands in for the kernel part of KMM's worker, images/kmm-worker). Podman, its storage
 * across reboots, the registry and its credentials are real. The node boots again after every
 * reboot (nspawn exits 133) until the probe unit powers it off. What happened is read from
 * systemd itself (the persistent journal, the `systemctl show` timestamps that the probe
 * writes before powering off), from the registry's request log and from podman's storage.
 */

const ROOT_SH = join(__dirname, 'root.sh');
const NODE_TREE = join(__dirname, 'node');
/** The units of node/ that a node has enabled before any MachineConfig. */
const NODE_UNITS = ['NetworkManager.service', 'NetworkManager-wait-online.service', 'crio-wipe.service', 'kmm-day1-tier-probe.service'];
/** What a boot may take before `timeout` ends it: a boot here takes seconds. */
const BOOT_TIMEOUT_SECONDS = 180;
/** systemd-nspawn's exit status when the container rebooted. */
export const EXIT_REBOOT = 133;

/** The cached root tarball that root.sh builds (it may not exist). */
export function rootTarball(): string {
  const result = spawnSync('bash', [ROOT_SH, 'path'], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${ROOT_SH} path failed: ${result.stderr}`);
  }
  return result.stdout.trim();
}

let workDir: string | undefined;
let baseRoot: string | undefined;

/** The cached tarball unpacked once per test run; each node copies it. */
function base(): string {
  if (baseRoot === undefined) {
    workDir = mkdtempSync('/var/tmp/kmm-day1-tier-');
    const dir = join(workDir, 'base');
    mkdirSync(dir);
    run('tar', ['--numeric-owner', '--xattrs', '-xzf', rootTarball(), '-C', dir], 'unpacking the root');
    baseRoot = dir;
  }
  return baseRoot;
}

function missingForTier(): string | undefined {
  if (process.getuid?.() !== 0) return 'root privileges (systemd-nspawn boots containers)';
  if (!commandExists('systemd-nspawn')) return 'systemd-nspawn (Debian package systemd-container)';
  for (const [tool, pkg] of [['buildah', 'buildah'], ['skopeo', 'skopeo'], [REGISTRY_BINARY, 'docker-registry'], ['htpasswd', 'apache2-utils'],
    [BUSYBOX, 'busybox-static']]) {
    if (!commandExists(tool)) return `${tool} (Debian package ${pkg})`;
  }
  const tarball = rootTarball();
  if (!existsSync(tarball)) return `the cached bookworm root ${tarball} (npx projen test:systemd builds it)`;
  // Namespaces may be denied here (an unprivileged container): try one, read-only, no boot.
  const check = spawnSync('timeout', ['60', 'systemd-nspawn', '-q', '-D', base(), '--read-only', '--register=no', '--keep-unit',
    '--private-network', '--link-journal=no', `--machine=kmm-day1-tier-check-${process.pid}`, '/bin/true'], { encoding: 'utf8' });
  if (check.status !== 0) return `a working systemd-nspawn (it exited ${check.status}: ${check.stderr.trim()})`;
  return undefined;
}

const missing = missingForTier();
/** Whether nodes can boot here (registries and images are only worth starting then). */
export const TIER_AVAILABLE = missing === undefined;
/** `test` when a node can boot here; skipped loudly locally, failing in CI, otherwise. */
export const scenario = testWithOracle(missing ?? 'the real-systemd tier', missing === undefined);

/** The node's kernel: nspawn shares the host's, and `uname -r` stays real. */
export const NODE_KERNEL = release();

/** The module image reference the node pulls for `options`. */
export function moduleImage(options: ResolvedMachineConfigOptions): string {
  return `${options.kernelModuleImage}:${kernelReleaseTag(NODE_KERNEL)}`;
}

export type Tree = Record<string, string>;

function writeTree(dir: string, files: Tree): void {
  for (const [path, contents] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, contents);
  }
}

function run(command: string, args: string[], what: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${what}: ${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

/* ------------------------------------------------------------------------------------------ */
/* Journal                                                                                     */

/** systemd's catalog ids of the job and unit messages the assertions read. */
export const MESSAGE_ID = {
  /** "Starting X..." */
  starting: '7d4958e842da4a758f6c1cdc7b36dcc5',
  /** "Finished X." / "Started X." / "Reached target X." (JOB_RESULT says how it ended) */
  jobDone: '39f53479d3a045ac8e11786248231fbf',
  /** "X: Deactivated successfully." */
  deactivated: '7ad2d189f7e94e70a38c781354912448',
  /** "X: Failed with result ..." */
  failedResult: 'd9b373ed55a64feb8242e02dbe79a49c',
} as const;

export interface JournalEntry {
  readonly boot: string;
  /** CLOCK_MONOTONIC in µs: the host's clock, shared by every boot of the node. */
  readonly mono: number;
  readonly message: string;
  readonly identifier?: string;
  /** UNIT=: the unit a message of systemd is about. */
  readonly unit?: string;
  /** The unit a tier fixture was called from (KMM_TIER_UNIT), else journald's _SYSTEMD_UNIT. */
  readonly caller?: string;
  readonly messageId?: string;
  readonly jobType?: string;
  readonly jobResult?: string;
  /** CONTAINER_NAME: set on what podman's journald log driver wrote for a container. */
  readonly containerName?: string;
}

function field(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    // journalctl -o json gives bytes that are not UTF-8 as an array of numbers.
    return typeof value[0] === 'number' ? Buffer.from(value as number[]).toString('utf8') : field(value[0]);
  }
  return String(value);
}

/** One boot's part of the journal, with the lookups the scenarios assert on. */
export class BootJournal {
  constructor(public readonly bootId: string, public readonly entries: readonly JournalEntry[], private readonly directory: string) {}

  /** When systemd finished the start job of `unit` (a target reached, a oneshot finished). */
  public jobDone(unit: string): number | undefined {
    return this.first((e) => e.messageId === MESSAGE_ID.jobDone && e.unit === unit && e.jobType === 'start')?.mono;
  }

  /** How systemd ended the start job of `unit`: done, failed, skipped, canceled, ... */
  public jobResult(unit: string): string | undefined {
    return this.first((e) => e.identifier === 'systemd' && e.unit === unit && e.jobType === 'start' && e.jobResult !== undefined)?.jobResult;
  }

  /** When systemd began starting `unit` ("Starting X..."). */
  public starting(unit: string): number | undefined {
    return this.first((e) => e.messageId === MESSAGE_ID.starting && e.unit === unit)?.mono;
  }

  /** When `unit`'s processes had all exited with success ("Deactivated successfully"). */
  public deactivated(unit: string): number | undefined {
    return this.first((e) => e.messageId === MESSAGE_ID.deactivated && e.unit === unit)?.mono;
  }

  /** Whether systemd did anything at all with `unit` in this boot. */
  public mentions(unit: string): JournalEntry[] {
    return this.entries.filter((e) => e.identifier === 'systemd' && e.unit === unit);
  }

  /** What a unit ending in `unitSuffix` wrote to its output (its scripts, and podman's relay of a container's output). */
  public output(unitSuffix: string): JournalEntry[] {
    return this.entries.filter((e) => e.identifier !== 'systemd' && (e.caller ?? '').endsWith(unitSuffix));
  }

  /** The images our pull script said it pulled ("pulled IMAGE (attempt i/n)"), from units ending in `unitSuffix`. */
  public pulled(unitSuffix = ''): string[] {
    return this.output(unitSuffix).map((e) => /^pulled (\S+) \(attempt \d+\/\d+\)$/.exec(e.message)).filter((m) => m !== null)
      .map((m) => m![1]);
  }

  /**
   * What the worker image's entrypoint said ("loading M from IMAGE", "config M| LINE",
   * "loaded M", "error: ..."), without its "kmm-worker: " prefix, as podman relayed it from the
   * container to the unit's output (podman's journald log driver writes each line once more,
   * with CONTAINER_NAME: those are left out).
   */
  public worker(): JournalEntry[] {
    return this.entries.filter((e) => e.message.startsWith(WORKER_PREFIX) && e.containerName === undefined)
      .map((e) => ({ ...e, message: e.message.slice(WORKER_PREFIX.length) }));
  }

  /** When the worker reported `module` loaded. */
  public loaded(module: string): number | undefined {
    return this.worker().find((e) => e.message === `loaded ${module}`)?.mono;
  }

  /** The modules the worker reported loaded in this boot, in order. */
  public loadedModules(): string[] {
    return this.worker().map((e) => /^loaded (\S+)$/.exec(e.message)).filter((m) => m !== null).map((m) => m![1]);
  }

  /** The config the worker was given, by module, as it printed it. */
  public workerConfigs(): Record<string, string> {
    const configs: Record<string, string> = {};
    for (const entry of this.worker()) {
      const line = /^config (\S+)\| (.*)$/.exec(entry.message);
      if (line) configs[line[1]] = `${configs[line[1]] ?? ''}${line[2]}\n`;
    }
    return configs;
  }

  /** systemd's complaints about processes a unit left behind. */
  public leftovers(): JournalEntry[] {
    return this.entries.filter((e) => /Found left-over process/.test(e.message));
  }

  /** When the shutdown of a reboot began: systemd's first "Stopping X..." or word of reboot.target; undefined without a reboot. */
  public rebootAt(): number | undefined {
    if (!this.rebootRequested()) return undefined;
    return this.first((e) => e.identifier === 'systemd' && (e.unit === 'reboot.target' || e.message.startsWith('Stopping ')))?.mono;
  }

  public rebootRequested(): boolean {
    return this.entries.some((e) => e.identifier === 'systemd' && e.unit === 'reboot.target' && e.messageId === MESSAGE_ID.starting)
      || this.entries.some((e) => e.messageId === MESSAGE_ID.jobDone && e.unit === 'reboot.target');
  }

  /** journalctl's own short-monotonic rendering of this boot, for failure messages and notes. */
  public text(grep?: RegExp): string {
    const out = run('journalctl', ['-D', this.directory, '-b', this.bootId, '-o', 'short-monotonic', '--no-pager', '--no-hostname'], 'journal text');
    return grep ? out.split('\n').filter((line) => grep.test(line)).join('\n') : out;
  }

  /** journalctl's rendering of what `unit` and its processes wrote in this boot (`journalctl -u`). */
  public unitText(unit: string): string {
    return run('journalctl', ['-D', this.directory, '-b', this.bootId, '-u', unit, '-o', 'short-monotonic', '--no-pager', '--no-hostname'],
      'journal text');
  }

  private first(pick: (e: JournalEntry) => boolean): JournalEntry | undefined {
    return this.entries.find(pick);
  }
}

const WORKER_PREFIX = 'kmm-worker: ';

/** Reads the node's persistent journal, grouped by boot in boot order. */
export function readJournal(directory: string): BootJournal[] {
  const out = run('journalctl', ['-D', directory, '-o', 'json', '--no-pager', '--output-fields=' + [
    'MESSAGE', 'SYSLOG_IDENTIFIER', 'UNIT', '_SYSTEMD_UNIT', 'KMM_TIER_UNIT', 'MESSAGE_ID', 'JOB_TYPE', 'JOB_RESULT', '_BOOT_ID', 'CONTAINER_NAME',
  ].join(',')], 'journal');
  const byBoot = new Map<string, JournalEntry[]>();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const raw = JSON.parse(line) as Record<string, unknown>;
    const entry: JournalEntry = {
      boot: field(raw._BOOT_ID)!,
      mono: Number(field(raw.__MONOTONIC_TIMESTAMP)),
      message: field(raw.MESSAGE) ?? '',
      identifier: field(raw.SYSLOG_IDENTIFIER),
      unit: field(raw.UNIT),
      caller: field(raw.KMM_TIER_UNIT) || field(raw._SYSTEMD_UNIT),
      messageId: field(raw.MESSAGE_ID),
      jobType: field(raw.JOB_TYPE),
      jobResult: field(raw.JOB_RESULT),
      containerName: field(raw.CONTAINER_NAME),
    };
    const list = byBoot.get(entry.boot) ?? [];
    list.push(entry);
    byBoot.set(entry.boot, list);
  }
  // Every boot shares the host's monotonic clock, so it orders the boots too.
  return [...byBoot.entries()]
    .map(([boot, entries]) => new BootJournal(boot, entries.sort((a, b) => a.mono - b.mono), directory))
    .sort((a, b) => a.entries[0].mono - b.entries[0].mono);
}

/* ------------------------------------------------------------------------------------------ */
/* Probe reports                                                                               */

/** What the probe unit wrote about one boot, from systemctl. */
export interface ProbeReport {
  readonly bootId: string;
  readonly systemState: string;
  /** `systemctl --failed` unit names. */
  readonly failed: string[];
  readonly jobs: string;
  /** Modules the worker reported loaded in this boot (from the journal). */
  readonly loaded: string[];
  /** The config the worker was given, by module (from the journal). */
  readonly workerConfigs: Record<string, string>;
  /** `systemctl show` properties by unit. */
  readonly units: Record<string, Record<string, string>>;
}

export function parseReport(text: string, journal: BootJournal): ProbeReport {
  const sections = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of text.split('\n')) {
    const header = /^## (.*)$/.exec(line);
    if (header) {
      current = [];
      sections.set(header[1], current);
    } else {
      current.push(line);
    }
  }
  const lines = (name: string) => (sections.get(name) ?? []).filter((line) => line !== '');
  // `systemctl show` of several units: one block of properties per unit, blank lines between.
  const units: Record<string, Record<string, string>> = {};
  for (const block of (sections.get('show') ?? []).join('\n').split(/\n\s*\n/)) {
    const properties = Object.fromEntries(block.split('\n').filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    if (properties.Id !== undefined) units[properties.Id] = properties;
  }
  return {
    bootId: lines('boot-id')[0] ?? '',
    systemState: lines('system-state')[0] ?? '',
    failed: lines('failed').map((line) => line.split(/\s+/)[0]),
    jobs: lines('jobs').join('\n'),
    loaded: journal.loadedModules(),
    workerConfigs: journal.workerConfigs(),
    units,
  };
}

/** A `...TimestampMonotonic` of a unit, in µs; fails when systemd never set it. */
export function timestamp(report: ProbeReport, unit: string, property: string): number {
  const value = Number(report.units[unit]?.[`${property}TimestampMonotonic`]);
  if (!(value > 0)) {
    throw new Error(`${unit} has no ${property}Timestamp in this boot (probe says: ${JSON.stringify(report.units[unit])})`);
  }
  return value;
}

/* ------------------------------------------------------------------------------------------ */
/* Nodes                                                                                       */

export interface BootRecord {
  /** 1-based, over the node's life. */
  readonly n: number;
  readonly exitCode: number | null;
  readonly rebooted: boolean;
  readonly poweredOff: boolean;
  readonly wallMs: number;
  /** Host wall clock (ms) when nspawn started and ended: the window of the registry's log that is this boot's. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly consoleLog: string;
}

/**
 * PIDs whose environment holds `marker`: the init of a container booted with
 * `--setenv=<marker>` (systemd keeps the environment it was started with). Reading roots
 * would not do: /proc/PID/root of a process in the container's mount namespace reads "/".
 */
function processesMarked(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

export class TierNode {
  /** Kills what is left of every node's containers and removes their roots (100 MB each); for afterEach. */
  public static releaseAll(): void {
    for (const node of TierNode.live.splice(0)) {
      node.cleanup();
      TierNode.released.push(node);
    }
  }

  /** releaseAll, and the unpacked base root too; for afterAll. */
  public static cleanupAll(): void {
    TierNode.releaseAll();
    if (workDir !== undefined && process.env.KMM_DAY1_TIER_KEEP === undefined) {
      rmSync(workDir, { recursive: true, force: true });
      workDir = undefined;
      baseRoot = undefined;
    }
  }

  public static nodeCount(): number {
    return TierNode.live.length + TierNode.released.length;
  }

  /** A Markdown table of every node so far: boots, reboots, wall times. */
  public static summary(): string {
    const rows = [...TierNode.released, ...TierNode.live].map((node) => {
      const boots = node.boots;
      const seconds = (ms: number) => (ms / 1000).toFixed(1);
      const total = boots.length > 0 ? node.lastBootEnd - node.createdAt : 0;
      return `| ${node.name} | ${boots.length} | ${boots.filter((b) => b.rebooted).length} | ${boots.map((b) => b.exitCode).join(', ')}`
        + ` | ${boots.map((b) => seconds(b.wallMs)).join(' + ')} | ${seconds(total)} |`;
    });
    return ['| node | boots | reboots | nspawn exit codes | boot wall time (s) | node wall time, copy to last poweroff (s) |',
      '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
  }

  private static readonly live: TierNode[] = [];
  private static readonly released: TierNode[] = [];
  private static count = 0;

  public readonly dir: string;
  public readonly root: string;
  public readonly machine: string;
  public readonly boots: BootRecord[] = [];
  /** In the environment of the container's init, to find it should it outlive nspawn. */
  private readonly marker: string;
  private readonly createdAt = Date.now();
  private lastBootEnd = 0;
  private journalCache: BootJournal[] | undefined;

  constructor(public readonly name: string) {
    const template = base();
    TierNode.count += 1;
    this.machine = `kmm-day1-tier-${process.pid}-${TierNode.count}`;
    this.dir = join(dirname(template), `${TierNode.count}-${name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)}`);
    this.root = join(this.dir, 'root');
    this.marker = `KMM_DAY1_TIER_NODE=${this.machine}-${randomBytes(8).toString('hex')}`;
    TierNode.live.push(this);
    mkdirSync(this.dir);
    run('cp', ['-a', template, this.root], 'copying the root');
    // One machine id for every boot of this node: one journal directory, and a node identity.
    writeFileSync(join(this.root, 'etc/machine-id'), `${randomBytes(16).toString('hex')}\n`);
    cpSync(NODE_TREE, this.root, { recursive: true });
    for (const file of listFiles(NODE_TREE)) {
      const executable = readFileSync(join(NODE_TREE, file), 'utf8').startsWith('#!');
      chmodSync(join(this.root, file), executable ? 0o755 : 0o644);
    }
    mkdirSync(join(this.root, 'etc/kmm-day1-tier'), { recursive: true });
    // A node has its kernel's modules; the worker sees them at /lib/modules.
    mkdirSync(join(this.root, 'lib/modules', NODE_KERNEL, 'kernel'), { recursive: true });
    systemctlRoot(this.root, 'enable', ...NODE_UNITS);
  }

  /**
   * Merges the pool's MachineConfigs as the MCO does (`mergeMachineConfigs`) and writes the
   * result into the root as Ignition would. Conflicts are returned, not refused: a node boots
   * whatever the MCO renders.
   */
  public applyMachineConfigs(machineConfigs: readonly unknown[], options?: MergeMachineConfigsOptions): MergedMachineConfigs {
    const pool = mergeMachineConfigs([...machineConfigs], options);
    applyPool(this.root, pool);
    return pool;
  }

  /**
   * Puts `image` into the node's podman storage as an earlier pull would have: skopeo copies it
   * from its registry into the same vfs store the node's podman uses (no libpod database is
   * written, so podman in the node creates its own).
   */
  public store(image: string, credentials?: Credentials): this {
    const creds = credentials === undefined ? [] : ['--src-creds', `${credentials.username}:${credentials.password}`];
    run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', ...creds, `docker://${image}`, this.storageReference(image)], 'storing an image');
    return this;
  }

  /** Stores the worker image and the module image for the node's kernel. */
  public storeModule(options: ResolvedMachineConfigOptions): this {
    return this.store(options.workerImage).store(moduleImage(options));
  }

  /** Whether `image` is in the node's podman storage (read from the host, the node powered off). */
  public hasImage(image: string): boolean {
    return spawnSync('skopeo', ['inspect', '--raw', this.storageReference(image)], { stdio: 'ignore' }).status === 0;
  }

  /** The node's podman storage lives under /run: what a boot pulled is gone after the reboot. */
  public volatileStorage(): this {
    return this.write('/etc/containers/storage.conf',
      '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/run/kmm-day1-tier/volatile-storage"\n');
  }

  /** The node's pull secret, /var/lib/kubelet/config.json (kubelet format); `undefined` removes it. */
  public pullSecret(contents: string | undefined): this {
    if (contents === undefined) {
      rmSync(join(this.root, 'var/lib/kubelet/config.json'), { force: true });
      return this;
    }
    return this.write('/var/lib/kubelet/config.json', contents, 0o600);
  }

  /** How long the dispatcher stand-in stays busy after network-online.target. */
  public dispatcherSeconds(seconds: number): this {
    writeFileSync(join(this.root, 'etc/kmm-day1-tier/dispatcher.env'), `KMM_TIER_DISPATCHER_SECONDS=${seconds}\n`);
    return this;
  }

  /** Whether a file or directory exists in the root (after the boots: what the node left behind). */
  public exists(path: string): boolean {
    return existsSync(join(this.root, path));
  }

  /** Writes a file into the root (a fixture or a mutation). */
  public write(path: string, contents: string, mode = 0o644): this {
    writeTree(this.root, { [path.replace(/^\//, '')]: contents });
    chmodSync(join(this.root, path), mode);
    return this;
  }

  /** One boot: systemd-nspawn until the container powers off, reboots, or `timeout` ends it. */
  public boot(): BootRecord {
    const n = this.boots.length + 1;
    const consoleLog = join(this.dir, `console-${n}.log`);
    this.writeRegistriesConf();
    const started = Date.now();
    const result = spawnSync('timeout', [
      '--kill-after=10', String(BOOT_TIMEOUT_SECONDS),
      'systemd-nspawn', '-q', '-D', this.root, '-b', '--register=no', '--keep-unit', '--console=read-only',
      // The host's network namespace (its loopback registries); CAP_NET_ADMIN lets podman bring up
      // the loopback of a `--network none` container.
      '--capability=CAP_NET_ADMIN', '--link-journal=no', `--machine=${this.machine}`, `--setenv=${this.marker}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, maxBuffer: 64 * 1024 * 1024 });
    writeFileSync(consoleLog, Buffer.concat([result.stdout ?? Buffer.alloc(0), result.stderr ?? Buffer.alloc(0)]));
    this.lastBootEnd = Date.now();
    const wallMs = this.lastBootEnd - started;
    this.reap();
    this.journalCache = undefined;
    const record: BootRecord = {
      n,
      exitCode: result.status,
      rebooted: result.status === EXIT_REBOOT,
      poweredOff: result.status === 0,
      wallMs,
      startedAt: started,
      endedAt: this.lastBootEnd,
      consoleLog,
    };
    this.boots.push(record);
    if (!record.rebooted && !record.poweredOff) {
      const tail = readFileSync(consoleLog, 'utf8').split('\n').slice(-40).join('\n');
      throw new Error(`${this.name}: boot ${n} ended with ${result.status ?? result.signal}`
        + `${result.status === 124 ? ` (timeout after ${BOOT_TIMEOUT_SECONDS}s)` : ''}; console:\n${tail}`);
    }
    return record;
  }

  /** Boots, and again after each reboot, until the probe powers the node off; at most `maxBoots` boots. */
  public bootUntilPoweroff(maxBoots = 4): BootRecord[] {
    const first = this.boots.length;
    for (let i = 0; i < maxBoots; i++) {
      if (this.boot().poweredOff) {
        return this.boots.slice(first);
      }
    }
    throw new Error(`${this.name}: still rebooting after ${maxBoots} boots`);
  }

  /** The persistent journal of every boot so far, in boot order. */
  public journal(): BootJournal[] {
    this.journalCache ??= readJournal(join(this.root, 'var/log/journal'));
    if (this.journalCache.length !== this.boots.length) {
      throw new Error(`${this.name}: ${this.boots.length} boots but ${this.journalCache.length} boots in the journal`);
    }
    return this.journalCache;
  }

  /** The journal of boot `n` (1-based). */
  public bootJournal(n: number): BootJournal {
    return this.journal()[n - 1];
  }

  /** What the probe wrote in boot `n`; undefined when it never ran (the boot rebooted first). */
  public report(n: number): ProbeReport | undefined {
    const file = join(this.root, 'var/lib/kmm-day1-tier/reports', this.bootJournal(n).bootId);
    return existsSync(file) ? parseReport(readFileSync(file, 'utf8'), this.bootJournal(n)) : undefined;
  }

  /** What the probe wrote in boot `n`; fails, with that boot's journal, when it wrote nothing. */
  public reportOrThrow(n: number): ProbeReport {
    const report = this.report(n);
    if (report === undefined) {
      throw new Error(`${this.name}: the probe wrote no report in boot ${n}:\n${this.bootJournal(n).text()}`);
    }
    return report;
  }

  /** Every loopback endpoint started so far, marked insecure (plain HTTP) for the node's podman. */
  private writeRegistriesConf(): void {
    const entries = [...loopbackEndpoints()].map((e: Endpoint) => `[[registry]]\nlocation = "${e.host}"\ninsecure = true\n`);
    this.write('/etc/containers/registries.conf.d/50-kmm-day1-tier.conf', `# The tier's registries on the host's loopback.\n${entries.join('\n')}`);
  }

  private storageReference(image: string): string {
    const runroot = join(this.dir, 'host-runroot');
    mkdirSync(runroot, { recursive: true });
    return `containers-storage:[vfs@${join(this.root, 'var/lib/containers/storage')}+${runroot}]${image}`;
  }

  public cleanup(): void {
    this.reap();
    if (process.env.KMM_DAY1_TIER_KEEP === undefined) {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /**
   * nspawn tears its container down when it ends, even when killed; this is the safety net:
   * no container may outlive a boot (killing its init ends every process of its PID
   * namespace), and nspawn's per-machine directory on the host goes too.
   */
  private reap(): void {
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = processesMarked(this.marker);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('sleep', ['0.1']);
    }
    const propagate = join('/run/systemd/nspawn/propagate', this.machine);
    if (existsSync(propagate) && statSync(propagate).isDirectory()) {
      try {
        rmdirSync(propagate);
      } catch {
        // not empty: left for inspection rather than removed recursively
      }
    }
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory()
    ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
    : [`${prefix}${entry.name}`]));
}
