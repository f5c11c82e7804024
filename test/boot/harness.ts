import { ChildProcess, spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import {
  accessSync, appendFileSync, chmodSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync,
  statSync, symlinkSync, writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { delimiter, dirname, join } from 'path';
import {
  bootScripts, PREPULL_ARGUMENT, PULL_SCRIPT_PATH, PULL_UNIT_SUFFIX, pullUnit, REPLACE_SCRIPT_PATH, REPLACE_UNIT_SUFFIX, replaceUnit,
  WAIT_SCRIPT_PATH,
} from '../../src/boot';
import { resolveMachineConfigOptions, ResolvedMachineConfigOptions as ValidatedMachineConfigOptions } from '../../src/machine-config';
import { kernelReleaseTag, ProduceMachineConfigOptions } from '../../src/validation';
import {
  directives, expandSpecifiers, extractWords, parseUnitFile, serviceEnvironment, UnitFile,
} from '../util/systemd';

/*
 * A node for the boot scripts: each script runs under bash exactly as the node gets it,
 * with the environment its generated unit gives it, against fake podman, uname, systemctl,
 * reboot, sync and sleep (test/boot/fakes/fakebin.sh), and with every host path under a
 * temporary root (KMM_DAY1_ROOT). Besides the fakes, PATH holds only the few real tools the
 * scripts are allowed to use, so a script that calls anything else fails its test.
 * Everything the fakes know lives in files, so running scripts one after another on the
 * same FakeNode is a sequence of boots.
 *
 * Two ways to boot: `run`/`boot` run our scripts with the environment of units
 * generated here (one script, or the modules' units one after another); `bootPool` boots a
 * whole merged pool as the node would see it (see there).
 */

/**
 * The scripts as the node gets them (fragments inlined), as files bash can run. They are
 * written once per content under node_modules/.cache, each by rename, so that parallel test
 * workers share them without a race and nothing is left in the system's temporary directory.
 */
function installedScripts(): Record<'replace' | 'pull' | 'wait', string> {
  const scripts = bootScripts();
  const hash = createHash('sha256');
  for (const script of scripts) hash.update(`${script.path}\0${script.contents}\0`);
  const dir = join(__dirname, '..', '..', 'node_modules', '.cache', 'kmm-day1-boot-scripts', hash.digest('hex').slice(0, 16));
  mkdirSync(dir, { recursive: true });
  const file = (path: string) => {
    const target = join(dir, path.slice(path.lastIndexOf('/') + 1));
    if (!existsSync(target)) {
      const partial = `${target}.${process.pid}`;
      writeFileSync(partial, scripts.find((script) => script.path === path)!.contents, { mode: 0o755 });
      renameSync(partial, target);
    }
    return target;
  };
  return { replace: file(REPLACE_SCRIPT_PATH), pull: file(PULL_SCRIPT_PATH), wait: file(WAIT_SCRIPT_PATH) };
}

export const SCRIPTS = installedScripts();
export type ScriptName = keyof typeof SCRIPTS;

const FAKEBIN = join(__dirname, 'fakes', 'fakebin.sh');
const FAKED = ['podman', 'uname', 'systemctl', 'reboot', 'sync', 'sleep'];
/**
 * Real tools the scripts may run (all on every RHCOS node); `timeout` runs whichever podman
 * PATH finds first. `cat` is for the KMM operator stand-in's scripts (ours do not use it).
 */
const ALLOWED_REAL = ['rm', 'mkdir', 'mv', 'timeout', 'sha256sum', 'cat'];

export const KERNEL = '5.14.0-284.59.1.el9_2.x86_64';
export const NEXT_KERNEL = '5.14.0-427.13.1.el9_4.x86_64';
export const WORKER_IMAGE = 'quay.io/edge-infrastructure/kernel-module-management-worker:latest';

/** The first executable file named `command` on PATH, as `command -v` finds it (without starting a shell). */
function which(command: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '')) {
    const path = join(dir, command);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) {
        return path;
      }
    } catch {
      // Not here.
    }
  }
  throw new Error(`${command} is not installed; the boot script tests need it`);
}

export const BASH = which('bash');
/** Where the allowed real tools are, found when the first node is made. */
let allowedRealPaths: Record<string, string> | undefined;

/** Validated options, as the generator would use them. */
export function moduleOptions(overrides: Partial<ProduceMachineConfigOptions> = {}): ValidatedMachineConfigOptions {
  return resolveMachineConfigOptions({
    machineConfigName: '99-worker-ice',
    machineConfigPoolRef: 'worker',
    kernelModuleImage: 'quay.io/example/ice-driver',
    kernelModuleName: 'ice',
    ...overrides,
  });
}

/** The module image reference a node running `kernel` uses. */
export function moduleImage(options: { readonly kernelModuleImage: string }, kernel = KERNEL): string {
  return `${options.kernelModuleImage}:${kernelReleaseTag(kernel)}`;
}

/** What a module image is made of: enough of a Day 1 option set or a BootModuleConfig spec. */
export interface ModuleImageSpec {
  readonly kernelModuleImage: string;
  readonly kernelModuleName: string;
  readonly firmwareFilesPath?: string;
}

/** The environment systemd gives the unit's commands, read back from the generated unit. */
export function unitEnvironment(script: ScriptName, options: ValidatedMachineConfigOptions): Record<string, string> {
  const unit = script === 'replace' ? replaceUnit(options) : pullUnit(options);
  return serviceEnvironment(parseUnitFile(unit.contents));
}

export interface Call {
  readonly tool: string;
  readonly argv: string[];
  /** In a pool boot: the unit command that made the call, e.g. `x-pull-kernel-module-image.service ExecStart`. */
  readonly process?: string;
}

export interface RunResult {
  readonly script: ScriptName;
  /** Exit status, or null when a signal ended the script. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout split into lines: what the journal shows. */
  readonly lines: string[];
  /** The fake commands this run called, in order. */
  readonly calls: Call[];
}

export interface BootResult {
  readonly replace: RunResult[];
  readonly wait: RunResult[];
  readonly pull: RunResult[];
  readonly rebooted: boolean;
}

/** One ostree deployment of a fake node. */
export interface Deployment {
  readonly kernel: string;
  /** `*` in `ostree admin status`. */
  readonly booted?: boolean;
  readonly flag?: 'staged' | 'pending' | 'rollback';
  /** false: the tree has the kernel's modules directory but no vmlinuz (unreadable kernel). */
  readonly vmlinuz?: boolean;
}

/** `LoadState ActiveState Result` of NetworkManager-dispatcher.service. */
export type DispatcherState = `${string} ${string} ${string}`;

/** A file tree: relative path → contents. */
export type Tree = Record<string, string>;

export class FakeNode {
  /** Removes every node made so far; call it from afterEach. */
  public static cleanupAll(): void {
    for (const node of FakeNode.live.splice(0)) {
      rmSync(node.base, { recursive: true, force: true });
    }
  }

  private static readonly live: FakeNode[] = [];

  /** KMM_DAY1_ROOT: the node's filesystem as the scripts see it. */
  public readonly root: string;
  /** Files of the fake commands (FAKE_STATE). */
  public readonly state: string;
  private readonly base: string;
  private readonly bin: string;

  constructor(kernel = KERNEL) {
    this.base = mkdtempSync(join(tmpdir(), 'kmm-day1-boot-'));
    FakeNode.live.push(this);
    this.root = join(this.base, 'root');
    this.state = join(this.base, 'state');
    this.bin = join(this.base, 'bin');
    for (const dir of [this.root, this.bin, join(this.state, 'knobs'), join(this.state, 'store'), join(this.state, 'registry'), join(this.state, 'runs')]) {
      mkdirSync(dir, { recursive: true });
    }
    // A copy, so the tests do not depend on the file mode git checked out.
    const fakebin = join(this.base, 'fakebin.sh');
    cpSync(FAKEBIN, fakebin);
    chmodSync(fakebin, 0o755);
    for (const tool of FAKED) {
      symlinkSync(fakebin, join(this.bin, tool));
    }
    allowedRealPaths ??= Object.fromEntries(ALLOWED_REAL.map((tool) => [tool, which(tool)]));
    for (const tool of ALLOWED_REAL) {
      symlinkSync(allowedRealPaths[tool], join(this.bin, tool));
    }
    writeFileSync(join(this.state, 'calls.jsonl'), '');
    writeFileSync(join(this.state, 'containers'), '');
    this.kernel = kernel;
    this.dispatcher('loaded inactive success');
  }

  public set kernel(release: string) {
    this.knob('kernel', `${release}\n`);
    // The host's own modules directory, which the worker sees at /lib/modules.
    mkdirSync(join(this.root, 'lib', 'modules', release, 'kernel'), { recursive: true });
  }

  /** Makes the registry serve `image` with this root filesystem. */
  public publish(image: string, files: Tree): this {
    const dir = join(this.state, 'registry', encode(image));
    // Local storage keeps no copy of an image's files (see fakebin.sh, store/<ref>).
    if (this.hasImage(image) && JSON.stringify(readTree(dir)) !== JSON.stringify(sortedTree(files))) {
      throw new Error(`${image} is in local storage already: publish other files for it before it is stored or pulled`);
    }
    rmSync(dir, { recursive: true, force: true });
    writeTree(dir, files);
    return this;
  }

  /**
   * Publishes the worker image and the module image for `kernels`, with module and firmware
   * files; FROM scratch unless `shell` (a /bin/sh, which the KMM operator's copy step runs).
   */
  public publishModule(options: ModuleImageSpec & { readonly workerImage: string }, kernels: string[] = [KERNEL], shell = false): this {
    this.publishWorker(options.workerImage);
    for (const kernel of kernels) {
      this.publish(moduleImage(options, kernel), { ...moduleImageFiles(options, kernel), ...(shell ? { 'bin/sh': '' } : {}) });
    }
    return this;
  }

  /** Publishes a worker image. */
  public publishWorker(image: string): this {
    return this.publish(image, { 'usr/bin/worker': 'worker binary\n' });
  }

  /** Puts a published image straight into local storage, as an earlier pull would have. */
  public store(image: string): this {
    if (!existsSync(join(this.state, 'registry', encode(image)))) {
      throw new Error(`${image} is not published`);
    }
    writeFileSync(join(this.state, 'store', encode(image)), '');
    return this;
  }

  public hasImage(image: string): boolean {
    return existsSync(join(this.state, 'store', encode(image)));
  }

  /** Empties local storage, as something that wipes /var/lib/containers at boot would. */
  public wipeStorage(): void {
    rmSync(join(this.state, 'store'), { recursive: true, force: true });
    mkdirSync(join(this.state, 'store'));
    writeFileSync(join(this.state, 'containers'), '');
  }

  public failPulls(count: number): this {
    return this.knob('pull-failures', `${count}\n`);
  }

  public pullsLeftToFail(): number {
    return Number(readFileSync(join(this.state, 'knobs', 'pull-failures'), 'utf8'));
  }

  public hangPulls(count: number): this {
    return this.knob('pull-hangs', `${count}\n`);
  }

  /** Pulls of these images (or of every image: '*') report success but store nothing. */
  public phantomPulls(images: string[]): this {
    return this.knob('pull-phantom', images.map((image) => `${image}\n`).join(''));
  }

  /**
   * A pull of `image` takes this many seconds (really slept, scaled like `sleep`; see sleepMs),
   * or, with `until` (a unit command such as `x-pull-kernel-module-image.service ExecStart`),
   * ends as soon as that command has called `sleep`.
   */
  public slowPull(image: string, seconds: number, until?: string): this {
    const file = join(this.state, 'knobs', 'pull-slow');
    const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
    return this.knob('pull-slow', `${before}${seconds} ${image}${until === undefined ? '' : ` ${until}`}\n`);
  }

  public workerExits(status: number): this {
    return this.knob('worker-exit', `${status}\n`);
  }

  public workerHangs(): this {
    return this.knob('worker-hangs', '');
  }

  /** One state per poll; the last one stays. */
  public dispatcher(...states: DispatcherState[]): this {
    return this.knob('dispatcher', states.map((s) => `${s}\n`).join(''));
  }

  public writePullSecret(): this {
    writeTree(this.root, { 'var/lib/kubelet/config.json': '{"auths":{}}\n' });
    return this;
  }

  public get pullSecret(): string {
    return join(this.root, 'var/lib/kubelet/config.json');
  }

  /** Marks a module as loaded by the kernel, as /sys/module shows it. */
  public loadedModule(name: string, loadable: boolean): this {
    const dir = join(this.root, 'sys', 'module', name);
    mkdirSync(dir, { recursive: true });
    if (loadable) {
      writeFileSync(join(dir, 'initstate'), 'live\n');
    }
    return this;
  }

  /** Existing containers, by name. */
  public containers(): string[] {
    return readFileSync(join(this.state, 'containers'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split(' ')[0])
      .sort();
  }

  /** Makes a container exist, as a boot that was cut short would leave it. */
  public leaveContainer(name: string, image: string): this {
    appendFileSync(join(this.state, 'containers'), `${name} ${image}\n`);
    return this;
  }

  public calls(): Call[] {
    const text = readFileSync(join(this.state, 'calls.jsonl'), 'utf8');
    // While pull units run side by side, a fake may be appending its line as this reads: a line
    // that crosses a page boundary can show up half written. Only whole lines count.
    return text.slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Call);
  }

  /** What the n-th `podman run` (1-based) saw: the worker config and its /tmp (sorted paths, and each file's contents). */
  public workerRun(n: number): { config: string; tmp: string[]; tmpFiles: Tree } {
    const run = join(this.state, 'runs', String(n));
    if (!existsSync(`${run}.run`)) {
      throw new Error(`there was no podman run #${n}`);
    }
    const tmpFiles: Tree = {};
    const snapshot = existsSync(`${run}.tmp.jsonl`) ? readFileSync(`${run}.tmp.jsonl`, 'utf8') : '';
    for (const line of snapshot.split('\n').filter((l) => l !== '')) {
      const file = JSON.parse(line) as { path: string; contents: string };
      tmpFiles[file.path] = file.contents;
    }
    return { config: readFileSync(`${run}.config.yaml`, 'utf8'), tmp: Object.keys(tmpFiles).sort(), tmpFiles };
  }

  public workerRunCount(): number {
    return readdirSync(join(this.state, 'runs')).filter((name) => name.endsWith('.run')).length;
  }

  public stateDir(options: ValidatedMachineConfigOptions): string {
    return join(this.root, 'var', 'lib', 'kmm-day1', options.machineConfigName);
  }

  public guardFile(options: ValidatedMachineConfigOptions): string {
    return join(this.stateDir(options), 'reboot-guard');
  }

  /** Leaves a reboot guard with these contents, as an earlier boot (or corruption) would. */
  public writeGuard(options: ValidatedMachineConfigOptions, contents: string): this {
    writeTree(this.stateDir(options), { 'reboot-guard': contents });
    return this;
  }

  /** The reboot guard's lines, or undefined when there is none. */
  public guard(options: ValidatedMachineConfigOptions): string[] | undefined {
    const file = this.guardFile(options);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n') : undefined;
  }

  public env(script: ScriptName, options: ValidatedMachineConfigOptions, extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: this.bin,
      LANG: 'C.UTF-8',
      FAKE_STATE: this.state,
      KMM_DAY1_ROOT: this.root,
      ...unitEnvironment(script, options),
      ...extra,
    };
  }

  /** Runs one script to its end. */
  public run(script: ScriptName, options: ValidatedMachineConfigOptions, extra: Record<string, string> = {}): RunResult {
    return this.runWithEnvironment(script, this.env(script, options, extra));
  }

  /**
   * Runs one script to its end with exactly this unit environment (e.g. that of a KMM operator
   * unit or of an earlier release's unit) instead of one generated here.
   */
  public runWithUnitEnvironment(
    script: ScriptName, environment: Record<string, string>, extra: Record<string, string> = {}, args: string[] = [],
  ): RunResult {
    return this.runWithEnvironment(script, {
      PATH: this.bin, LANG: 'C.UTF-8', FAKE_STATE: this.state, KMM_DAY1_ROOT: this.root, ...environment, ...extra,
    }, args);
  }

  private runWithEnvironment(script: ScriptName, env: Record<string, string>, args: string[] = []): RunResult {
    const before = this.calls().length;
    const result = spawnSync(BASH, [SCRIPTS[script], ...args], {
      cwd: this.base,
      env,
      encoding: 'utf8',
      timeout: 15_000,
    });
    if (result.error) {
      throw result.error;
    }
    return this.result(script, result.status, result.signal, result.stdout, result.stderr, before);
  }

  /**
   * Starts a script, waits until `ready` holds for the recorded calls, then sends SIGTERM to
   * its whole process group, as systemd does to a unit's control group when it times out.
   */
  public async runAndTerminate(
    script: ScriptName,
    options: ValidatedMachineConfigOptions,
    ready: (calls: Call[]) => boolean,
  ): Promise<RunResult> {
    const before = this.calls().length;
    const child = spawn(BASH, [SCRIPTS[script]], { cwd: this.base, env: this.env(script, options), detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.on('close', (code, signal) => resolve([code, signal]));
    });
    const deadline = Date.now() + 10_000;
    while (!ready(this.calls().slice(before))) {
      if (Date.now() > deadline) {
        process.kill(-child.pid!, 'SIGKILL');
        throw new Error(`${script} never reached the point to interrupt; stdout:\n${stdout}\nstderr:\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The fake hangs by exec'ing sleep; give it a moment to get there after its record.
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(-child.pid!, 'SIGTERM');
    const [status, signal] = await exited;
    return this.result(script, status, signal, stdout, stderr, before);
  }

  /**
   * One boot as systemd orders it: the replace unit of every MachineConfig before the network,
   * then each pull unit (wait script as ExecStartPre, which must succeed for ExecStart to run).
   * A reboot ends the boot: the remaining pull units never start.
   */
  public boot(modules: ValidatedMachineConfigOptions[], extra: Record<string, string> = {}): BootResult {
    const replace = modules.map((options) => this.run('replace', options, extra));
    const wait: RunResult[] = [];
    const pull: RunResult[] = [];
    for (const options of modules) {
      const waited = this.run('wait', options, extra);
      wait.push(waited);
      if (waited.status !== 0) {
        continue;
      }
      const pulled = this.run('pull', options, extra);
      pull.push(pulled);
      if (rebootCalls(pulled).length > 0) {
        return { replace, wait, pull, rebooted: true };
      }
    }
    return { replace, wait, pull, rebooted: false };
  }

  /**
   * Boots the merged pool once (see PoolBoot): installs its files, runs the replace units in
   * order, then the pull units side by side; a reboot ends the boot.
   */
  public bootPool(pool: Pool, options: PoolBootOptions = {}): Promise<PoolBootResult> {
    return new PoolBoot(this, options).run(pool);
  }

  /** The shutdown after `boot` of `pool`: the ExecStop= commands of the units still active (see PoolBoot.stop). */
  public shutdownPool(pool: Pool, boot: PoolBootResult, options: PoolBootOptions = {}): Promise<UnitRun[]> {
    return new PoolBoot(this, options).stop(pool, boot);
  }

  /**
   * The node's ostree deployments, newest first as `ostree admin status` lists them: installs the
   * `ostree` fake, its output, and each deployment's tree with its kernel
   * (/ostree/deploy/rhcos/deploy/<checksum>.0/usr/lib/modules/<kernel>/vmlinuz).
   */
  public deployments(list: readonly Deployment[]): this {
    const ostree = join(this.bin, 'ostree');
    if (!existsSync(ostree)) {
      symlinkSync(join(this.base, 'fakebin.sh'), ostree);
    }
    rmSync(join(this.root, 'ostree'), { recursive: true, force: true });
    const lines = list.map((deployment) => {
      const checksum = createHash('sha256').update(`${deployment.kernel} ${deployment.flag ?? ''}`).digest('hex');
      const tree = join(this.root, 'ostree/deploy/rhcos/deploy', `${checksum}.0`);
      mkdirSync(join(tree, 'usr/lib/modules', deployment.kernel), { recursive: true });
      if (deployment.vmlinuz !== false) {
        writeFileSync(join(tree, 'usr/lib/modules', deployment.kernel, 'vmlinuz'), 'kernel\n');
      }
      return `${deployment.booted === true ? '*' : ' '} rhcos ${checksum}.0${deployment.flag === undefined ? '' : ` (${deployment.flag})`}\n`
        + '    Version: 417.94.202410090854-0\n    origin: <unknown origin type>\n';
    });
    return this.knob('ostree-status', lines.join(''));
  }

  /** The staged upgrade of the MCD: `next` staged, the running kernel booted. */
  public stage(next: string, flag: 'staged' | 'pending' = 'staged'): this {
    return this.deployments([{ kernel: next, flag }, { kernel: this.runningKernel(), booted: true }]);
  }

  /** `ostree admin status` fails with this status. */
  public ostreeFails(status: number): this {
    return this.knob('ostree-exit', `${status}\n`);
  }

  public runningKernel(): string {
    return readFileSync(join(this.state, 'knobs', 'kernel'), 'utf8').trim();
  }

  /** Images in local storage. */
  public storedImages(): string[] {
    return readdirSync(join(this.state, 'store')).map((name) => decodeURIComponent(name)).sort();
  }

  /** The pull script as our pull unit's ExecStop= runs it at shutdown: `--next-kernel`. */
  public runStop(options: ValidatedMachineConfigOptions, extra: Record<string, string> = {}): RunResult {
    return this.runWithEnvironment('pull', this.env('pull', options, extra), [PREPULL_ARGUMENT]);
  }

  /** PATH of every command: the fakes and the allowed real tools. */
  public get binDir(): string {
    return this.bin;
  }

  /** Installs the pool's files under the root with their modes (Ignition's default 0644 without one). */
  public install(pool: Pool): void {
    // Written by the Machine Config Operator on every node (empty without a cluster proxy).
    const proxyEnv = join(this.root, 'etc/mco/proxy.env');
    if (!existsSync(proxyEnv)) {
      writeTree(this.root, { 'etc/mco/proxy.env': '' });
    }
    for (const file of pool.files) {
      if (file.contents === undefined) {
        throw new Error(`${file.path}: the merged pool has no contents for it (not a data URL?)`);
      }
      const target = join(this.root, file.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.contents);
      chmodSync(target, file.mode ?? 0o644);
    }
  }

  /** What a reboot clears: /run (a tmpfs), the units' state, the reboot request. */
  public resetBoot(): void {
    rmSync(join(this.root, 'run'), { recursive: true, force: true });
    mkdirSync(join(this.root, 'run'));
    rmSync(join(this.state, 'units'), { recursive: true, force: true });
    mkdirSync(join(this.state, 'units'));
    rmSync(join(this.state, 'reboot-requested'), { force: true });
  }

  /** Sets what the fake systemctl says of a unit (see fakebin.sh, units/<unit>). */
  public unitState(unit: string, activeState: string, mainPid: number, job: string): void {
    const file = join(this.state, 'units', unit);
    writeFileSync(`${file}.tmp`, `${activeState} ${mainPid} ${job}\n`);
    renameSync(`${file}.tmp`, file);
  }

  /** Makes the fake sleep really sleep this many milliseconds per second asked for. */
  public sleepMs(perSecond: number): this {
    const sleeper = join(this.state, 'sleeper');
    if (!existsSync(sleeper)) {
      const made = spawnSync('mkfifo', [sleeper], { encoding: 'utf8' });
      if (made.status !== 0) {
        throw new Error(`mkfifo ${sleeper} failed: ${made.stderr}${made.error?.message ?? ''}`);
      }
    }
    return this.knob('sleep-ms', `${perSecond}\n`);
  }

  /** Every `podman run` so far: which unit command made it, and the worker config it mounted. */
  public workerRuns(): Array<{ process: string | undefined; config: string }> {
    const runs: Array<{ process: string | undefined; config: string }> = [];
    for (let n = 1; n <= this.workerRunCount(); n++) {
      const madeBy = readFileSync(join(this.state, 'runs', `${n}.run`), 'utf8').trim();
      runs.push({ process: madeBy === '' ? undefined : madeBy, config: this.workerRun(n).config });
    }
    return runs;
  }

  private result(
    script: ScriptName, status: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, before: number,
  ): RunResult {
    return {
      script,
      status,
      signal,
      stdout,
      stderr,
      lines: stdout.split('\n').filter((line) => line !== ''),
      calls: this.calls().slice(before),
    };
  }

  private knob(name: string, contents: string): this {
    writeFileSync(join(this.state, 'knobs', name), contents);
    return this;
  }
}

/** The root filesystem of a module image built for `kernel`, as a DTK build lays it out. */
export function moduleImageFiles(options: ModuleImageSpec, kernel: string): Tree {
  const files: Tree = {
    [`opt/lib/modules/${kernel}/${options.kernelModuleName}.ko`]: `${options.kernelModuleName} for ${kernel}\n`,
    [`opt/lib/modules/${kernel}/modules.dep`]: `${options.kernelModuleName}.ko:\n`,
  };
  if (options.firmwareFilesPath !== undefined) {
    files[`${options.firmwareFilesPath.slice(1)}/ddp/${options.kernelModuleName}.pkg`] = 'firmware blob\n';
  }
  return files;
}

export function encode(image: string): string {
  return image.replace(/%/g, '%25').replace(/\//g, '%2F').replace(/:/g, '%3A').replace(/@/g, '%40');
}

/** Every file below `dir` with its contents, by sorted relative path. */
function readTree(dir: string, prefix = ''): Tree {
  const tree: Tree = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      Object.assign(tree, readTree(join(dir, entry.name), `${prefix}${entry.name}/`));
    } else {
      tree[`${prefix}${entry.name}`] = readFileSync(join(dir, entry.name), 'utf8');
    }
  }
  return sortedTree(tree);
}

function sortedTree(files: Tree): Tree {
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function writeTree(dir: string, files: Tree): void {
  for (const [path, contents] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, contents);
  }
}

export function podmanCalls(run: RunResult | Call[]): string[][] {
  const calls = Array.isArray(run) ? run : run.calls;
  return calls.filter((call) => call.tool === 'podman').map((call) => call.argv);
}

export function pullCalls(run: RunResult): string[][] {
  return podmanCalls(run).filter((argv) => argv[0] === 'pull');
}

export function rebootCalls(run: RunResult): Call[] {
  return run.calls.filter((call) => call.tool === 'reboot');
}

export function sleeps(run: RunResult): number[] {
  return run.calls.filter((call) => call.tool === 'sleep').map((call) => Number(call.argv[0]));
}

/*
 * A whole pool on one node. The input is what the Machine Config Operator leaves on the node
 * after merging the pool's MachineConfigs (mergeMachineConfigs gives it): the winning files
 * with their modes, and the merged units. `bootPool` installs the files under the root and runs
 * the enabled Day 1 units from their merged contents (Environment=, EnvironmentFile=,
 * ExecStartPre=, ExecStart=), as systemd would:
 * - the replace units one after another, in the order their After=/Before= lines give among
 *   themselves (ties by name: the harness never runs two loads at once, even where systemd
 *   would, for units that are not ordered);
 * - then every pull unit at once, each a real process, its ExecStartPre first. While they run,
 *   the fake systemctl answers `show`, `list-units` and `list-jobs` for them from state kept
 *   here (a oneshot is `activating` with its ExecStart's PID as MainPID; without Type= it is
 *   `active`), and the fake sleep really sleeps (`sleepMsPerSecond`).
 * - the first `reboot` ends the boot: every unit still running gets SIGTERM, none starts.
 * Each boot starts with an empty /run (a tmpfs) and no unit state.
 */

/** A file of the merged pool (MergedFile has these fields). */
export interface PoolFile {
  readonly path: string;
  readonly contents?: string;
  readonly mode?: number;
}

/** A unit of the merged pool (MergedUnit has these fields). */
export interface PoolUnit {
  readonly name: string;
  readonly enabled?: boolean;
  readonly mask?: boolean;
  readonly contents?: string;
  readonly dropins?: ReadonlyArray<{ readonly name: string; readonly contents?: string }>;
}

/** What a node of the pool gets (MergedMachineConfigs from mergeMachineConfigs is one). */
export interface Pool {
  readonly files: readonly PoolFile[];
  readonly units: readonly PoolUnit[];
}

export interface CommandRun extends Omit<RunResult, 'script'> {
  /** `ExecStartPre` or `ExecStart`. */
  readonly directive: string;
  /** The command's path on the node. */
  readonly path: string;
}

export interface UnitRun {
  readonly unit: string;
  /** `success`, `failed`, `stopped` (by the reboot) or `not-started`. */
  readonly result: string;
  /** The environment its commands got from the unit (Environment=, EnvironmentFile=). */
  readonly environment: Record<string, string>;
  readonly commands: CommandRun[];
  /** The ExecStart command's run, if it started. */
  readonly main?: CommandRun;
}

export interface PoolBootResult {
  /** Replace units, in the order they ran. */
  readonly replace: UnitRun[];
  /** Pull units, by name. */
  readonly pull: UnitRun[];
  readonly rebooted: boolean;
  /** Every call of this boot, in the order the fakes got them. */
  readonly calls: Call[];
}

/** A Day 1 unit as the harness runs it. */
interface UnitPlan {
  readonly name: string;
  readonly oneshot: boolean;
  readonly environment: Record<string, string>;
  readonly environmentFiles: string[];
  readonly execStartPre: string[];
  readonly execStart: string[];
  /** Run at shutdown, and only for a unit that is still active then (a oneshot with RemainAfterExit=yes whose start succeeded). */
  readonly execStop: string[];
  readonly remainAfterExit: boolean;
  readonly after: string[];
  readonly before: string[];
}

/** Several occurrences of a command directive add up; an empty one clears the list (drop-ins). */
function commandList(unit: UnitFile, key: string): string[] {
  const commands: string[] = [];
  for (const value of directives(unit, 'Service', key)) {
    if (value === '') {
      commands.length = 0;
    } else {
      commands.push(value);
    }
  }
  return commands;
}

function unitPlan(unit: PoolUnit): UnitPlan {
  const texts = [unit.contents ?? '', ...[...(unit.dropins ?? [])].sort((a, b) => a.name.localeCompare(b.name)).map((d) => d.contents ?? '')];
  const parsed = parseUnitFile(texts.join('\n'));
  const words = (section: string, key: string) => directives(parsed, section, key).flatMap((value) => value.split(/\s+/).filter((w) => w !== ''));
  const type = directives(parsed, 'Service', 'Type');
  return {
    name: unit.name,
    oneshot: type[type.length - 1] === 'oneshot',
    environment: serviceEnvironment(parsed),
    environmentFiles: directives(parsed, 'Service', 'EnvironmentFile'),
    execStartPre: commandList(parsed, 'ExecStartPre'),
    execStart: commandList(parsed, 'ExecStart'),
    execStop: commandList(parsed, 'ExecStop'),
    remainAfterExit: /^(yes|true|on|1)$/.test(directives(parsed, 'Service', 'RemainAfterExit').slice(-1)[0] ?? ''),
    after: words('Unit', 'After'),
    before: words('Unit', 'Before'),
  };
}

/** The replace units in the order their After=/Before= lines give among themselves, ties by name. */
export function replaceOrder(plans: ReadonlyArray<{ name: string; after: string[]; before: string[] }>): string[] {
  const names = new Set(plans.map((plan) => plan.name));
  const preceding = new Map<string, Set<string>>(plans.map((plan) => [plan.name, new Set<string>()]));
  for (const plan of plans) {
    for (const other of plan.after.filter((name) => names.has(name) && name !== plan.name)) {
      preceding.get(plan.name)!.add(other);
    }
    for (const other of plan.before.filter((name) => names.has(name) && name !== plan.name)) {
      preceding.get(other)!.add(plan.name);
    }
  }
  const order: string[] = [];
  while (order.length < names.size) {
    const ready = [...preceding.entries()]
      .filter(([name, before]) => !order.includes(name) && [...before].every((b) => order.includes(b)))
      .map(([name]) => name)
      .sort();
    if (ready.length === 0) {
      throw new Error(`ordering cycle among ${[...names].filter((n) => !order.includes(n)).join(', ')}`);
    }
    order.push(ready[0]);
  }
  return order;
}

/** KEY=VALUE lines of an EnvironmentFile (comments and blank lines skipped, one level of quotes removed). */
function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) continue;
    const value = trimmed.slice(eq + 1).trim();
    env[trimmed.slice(0, eq).trim()] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return env;
}

/** Real seconds slept per second a script asks for, in a pool boot (a hundredth by default). */
const DEFAULT_SLEEP_MS_PER_SECOND = 10;
/** No command of a test boot may take longer than this; it is killed and the boot fails. */
const COMMAND_LIMIT_MS = 40_000;

export interface PoolBootOptions {
  /** Extra environment for every command (tuning); wins over the unit's. */
  readonly extra?: Record<string, string>;
  /** Milliseconds really slept per second of `sleep`. */
  readonly sleepMsPerSecond?: number;
}

export class PoolBoot {
  private rebooted = false;
  private firstCall = 0;
  private readonly running = new Set<ChildProcess>();

  constructor(private readonly node: FakeNode, private readonly options: PoolBootOptions) {}

  public async run(pool: Pool): Promise<PoolBootResult> {
    const node = this.node;
    this.firstCall = node.calls().length;
    node.resetBoot();
    node.install(pool);
    node.sleepMs(this.options.sleepMsPerSecond ?? DEFAULT_SLEEP_MS_PER_SECOND);
    const enabled = pool.units.filter((unit) => unit.enabled === true && unit.mask !== true && unit.contents !== undefined);
    const replacePlans = enabled.filter((unit) => unit.name.endsWith(REPLACE_UNIT_SUFFIX)).map(unitPlan);
    const pullPlans = enabled.filter((unit) => unit.name.endsWith(PULL_UNIT_SUFFIX)).map(unitPlan)
      .sort((a, b) => (a.name < b.name ? -1 : 1));

    const replace: UnitRun[] = [];
    for (const name of replaceOrder(replacePlans)) {
      replace.push(await this.runUnit(replacePlans.find((plan) => plan.name === name)!));
    }

    for (const plan of pullPlans) {
      node.unitState(plan.name, 'inactive', 0, 'waiting');
    }
    const watcher = setInterval(() => this.checkReboot(), 5);
    let pull: UnitRun[];
    try {
      pull = await Promise.all(pullPlans.map((plan) => this.runUnit(plan)));
    } finally {
      clearInterval(watcher);
    }
    this.checkReboot();
    return { replace, pull, rebooted: this.rebooted, calls: node.calls().slice(this.firstCall) };
  }

  /**
   * The shutdown after `boot`: systemd runs the ExecStop= of every unit that is still active,
   * i.e. whose start succeeded and that has RemainAfterExit=yes, all at once (nothing orders our
   * units among themselves at stop), each command to its end.
   */
  public async stop(pool: Pool, boot: PoolBootResult): Promise<UnitRun[]> {
    const node = this.node;
    this.firstCall = node.calls().length;
    node.sleepMs(this.options.sleepMsPerSecond ?? DEFAULT_SLEEP_MS_PER_SECOND);
    const started = new Set([...boot.replace, ...boot.pull].filter((run) => run.result === 'success').map((run) => run.unit));
    const plans = pool.units.filter((unit) => started.has(unit.name)).map(unitPlan)
      .filter((plan) => plan.oneshot && plan.remainAfterExit && plan.execStop.length > 0)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    return Promise.all(plans.map(async (plan) => {
      const environment = this.unitEnvironment(plan) ?? plan.environment;
      const commands: CommandRun[] = [];
      for (const line of plan.execStop) {
        commands.push(await this.runCommand(plan, 'ExecStop', line, environment));
      }
      const failed = commands.some((run, i) => run.status !== 0 && !plan.execStop[i].startsWith('-'));
      return { unit: plan.name, result: failed ? 'failed' : 'success', environment, commands, main: commands[0] };
    }));
  }

  /** The unit's environment with its EnvironmentFile= read; undefined when a required file is missing. */
  private unitEnvironment(plan: UnitPlan): Record<string, string> | undefined {
    let environment = { ...plan.environment };
    for (const raw of plan.environmentFiles) {
      const file = join(this.node.root, raw.replace(/^-/, ''));
      if (existsSync(file)) {
        environment = { ...environment, ...parseEnvironmentFile(readFileSync(file, 'utf8')) };
      } else if (!raw.startsWith('-')) {
        return undefined;
      }
    }
    return environment;
  }

  private checkReboot(): void {
    if (!this.rebooted && existsSync(join(this.node.state, 'reboot-requested'))) {
      this.rebooted = true;
      for (const child of this.running) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    }
  }

  private async runUnit(plan: UnitPlan): Promise<UnitRun> {
    const node = this.node;
    const commands: CommandRun[] = [];
    this.checkReboot();
    if (this.rebooted) {
      return { unit: plan.name, result: 'not-started', environment: plan.environment, commands };
    }
    const environment = this.unitEnvironment(plan);
    if (environment === undefined) {
      node.unitState(plan.name, 'failed', 0, '-');
      return { unit: plan.name, result: 'failed', environment: plan.environment, commands };
    }
    node.unitState(plan.name, 'activating', 0, 'running');
    const steps: Array<[string, string]> = [
      ...plan.execStartPre.map((line): [string, string] => ['ExecStartPre', line]),
      ...plan.execStart.map((line): [string, string] => ['ExecStart', line]),
    ];
    let main: CommandRun | undefined;
    for (const [directive, line] of steps) {
      this.checkReboot();
      if (this.rebooted) {
        node.unitState(plan.name, 'inactive', 0, '-');
        return { unit: plan.name, result: 'stopped', environment, commands, main };
      }
      const run = await this.runCommand(plan, directive, line, environment);
      commands.push(run);
      if (directive === 'ExecStart') {
        main = run;
      }
      this.checkReboot();
      if (run.status !== 0 && this.rebooted) {
        node.unitState(plan.name, 'inactive', 0, '-');
        return { unit: plan.name, result: 'stopped', environment, commands, main };
      }
      if (run.status !== 0 && !line.startsWith('-')) {
        node.unitState(plan.name, 'failed', 0, '-');
        return { unit: plan.name, result: 'failed', environment, commands, main };
      }
    }
    node.unitState(plan.name, 'inactive', 0, '-');
    return { unit: plan.name, result: 'success', environment, commands, main };
  }

  private runCommand(plan: UnitPlan, directive: string, line: string, environment: Record<string, string>): Promise<CommandRun> {
    const node = this.node;
    const [path, ...args] = extractWords(line.replace(/^[-@:+!]+/, '')).map(expandSpecifiers);
    const label = `${plan.name} ${directive}`;
    const env = {
      PATH: node.binDir,
      LANG: 'C.UTF-8',
      ...environment,
      FAKE_STATE: node.state,
      KMM_DAY1_ROOT: node.root,
      FAKE_PROCESS: label,
      ...this.options.extra,
    };
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      const child = spawn(join(node.root, path), args, { cwd: node.root, env, detached: true });
      let finished = false;
      const finish = (status: number | null, signal: NodeJS.Signals | null) => {
        if (finished) {
          return;
        }
        finished = true;
        clearTimeout(limit);
        this.running.delete(child);
        const calls = node.calls().slice(this.firstCall).filter((call) => call.process === label);
        resolve({ directive, path, status, signal, stdout, stderr, lines: stdout.split('\n').filter((l) => l !== ''), calls });
      };
      const limit = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
        reject(new Error(`${label} (${path}) ran longer than ${COMMAND_LIMIT_MS} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
      }, COMMAND_LIMIT_MS);
      child.on('error', (error: NodeJS.ErrnoException) => {
        // systemd's status when the command cannot be executed (missing, not executable).
        stderr += `${error.message}\n`;
        finish(203, null);
      });
      if (child.pid === undefined) {
        return;
      }
      this.running.add(child);
      if (directive === 'ExecStart') {
        // A oneshot is activating until its command ends; any other type is active at once.
        node.unitState(plan.name, plan.oneshot ? 'activating' : 'active', child.pid, plan.oneshot ? 'running' : '-');
      }
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
      child.on('close', (code, signal) => finish(code, signal));
    });
  }
}
