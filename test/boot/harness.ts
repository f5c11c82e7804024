import { spawn, spawnSync } from 'child_process';
import {
  chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { pullUnit, replaceUnit } from '../../src/boot';
import { ProduceMachineConfigOptions, validateMachineConfigOptions, ValidatedMachineConfigOptions } from '../../src/validation';
import { parseUnitFile, serviceEnvironment } from '../util/systemd';

/*
 * A node for the boot scripts: each script runs under bash exactly as it is in src/boot,
 * with the environment its generated unit gives it, against fake podman, uname, systemctl,
 * reboot, sync and sleep (test/boot/fakes/fakebin.sh), and with every host path under a
 * temporary root (KMM_DAY1_ROOT). Besides the fakes, PATH holds only the few real tools the
 * scripts are allowed to use, so a script that calls anything else fails its test.
 * Everything the fakes know lives in files, so running scripts one after another on the
 * same FakeNode is a sequence of boots.
 */

export const SRC_BOOT = join(__dirname, '..', '..', 'src', 'boot');
export const SCRIPTS = {
  replace: join(SRC_BOOT, 'replace-kernel-module.sh'),
  pull: join(SRC_BOOT, 'pull-kernel-module-image.sh'),
  wait: join(SRC_BOOT, 'wait-for-dispatcher.sh'),
} as const;
export type ScriptName = keyof typeof SCRIPTS;

const FAKEBIN = join(__dirname, 'fakes', 'fakebin.sh');
const FAKED = ['podman', 'uname', 'systemctl', 'reboot', 'sync', 'sleep'];
/** Real tools the scripts may run; `timeout` runs whichever podman PATH finds first. */
const ALLOWED_REAL = ['rm', 'mkdir', 'mv', 'timeout'];

export const KERNEL = '5.14.0-284.59.1.el9_2.x86_64';
export const NEXT_KERNEL = '5.14.0-427.13.1.el9_4.x86_64';
export const WORKER_IMAGE = 'quay.io/edge-infrastructure/kernel-module-management-worker:latest';

function which(command: string): string {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error(`${command} is not installed; the boot script tests need it`);
  }
  return found.stdout.trim();
}

export const BASH = which('bash');

/** Validated options, as the generator would use them. */
export function moduleOptions(overrides: Partial<ProduceMachineConfigOptions> = {}): ValidatedMachineConfigOptions {
  return validateMachineConfigOptions({
    machineConfigName: '99-worker-ice',
    machineConfigPoolRef: 'worker',
    kernelModuleImage: 'quay.io/example/ice-driver',
    kernelModuleName: 'ice',
    ...overrides,
  });
}

/** The module image reference a node running `kernel` uses. */
export function moduleImage(options: ValidatedMachineConfigOptions, kernel = KERNEL): string {
  return `${options.kernelModuleImage}:${kernel}`;
}

/** The environment systemd gives the unit's commands, read back from the generated unit. */
export function unitEnvironment(script: ScriptName, options: ValidatedMachineConfigOptions): Record<string, string> {
  const unit = script === 'replace' ? replaceUnit(options) : pullUnit(options);
  return serviceEnvironment(parseUnitFile(unit.contents));
}

export interface Call {
  readonly tool: string;
  readonly argv: string[];
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
    for (const dir of [this.root, this.bin, join(this.state, 'knobs'), join(this.state, 'store'), join(this.state, 'registry')]) {
      mkdirSync(dir, { recursive: true });
    }
    // A copy, so the tests do not depend on the file mode git checked out.
    const fakebin = join(this.base, 'fakebin.sh');
    cpSync(FAKEBIN, fakebin);
    chmodSync(fakebin, 0o755);
    for (const tool of FAKED) {
      symlinkSync(fakebin, join(this.bin, tool));
    }
    for (const tool of ALLOWED_REAL) {
      symlinkSync(which(tool), join(this.bin, tool));
    }
    writeFileSync(join(this.state, 'calls.jsonl'), '');
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
    rmSync(dir, { recursive: true, force: true });
    writeTree(dir, files);
    return this;
  }

  /** Publishes the worker image and the module image for `kernels`, with module and firmware files. */
  public publishModule(options: ValidatedMachineConfigOptions, kernels: string[] = [KERNEL]): this {
    this.publish(options.workerImage, { 'usr/bin/worker': 'worker binary\n' });
    for (const kernel of kernels) {
      this.publish(moduleImage(options, kernel), moduleImageFiles(options, kernel));
    }
    return this;
  }

  /** Puts a published image straight into local storage, as an earlier pull would have. */
  public store(image: string): this {
    const source = join(this.state, 'registry', encode(image));
    if (!existsSync(source)) {
      throw new Error(`${image} is not published`);
    }
    cpSync(source, join(this.state, 'store', encode(image)), { recursive: true });
    return this;
  }

  public hasImage(image: string): boolean {
    return existsSync(join(this.state, 'store', encode(image)));
  }

  /** Empties local storage, as something that wipes /var/lib/containers at boot would. */
  public wipeStorage(): void {
    rmSync(join(this.state, 'store'), { recursive: true, force: true });
    rmSync(join(this.state, 'containers'), { recursive: true, force: true });
    mkdirSync(join(this.state, 'store'));
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
    const dir = join(this.state, 'containers');
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  }

  /** Makes a container exist, as a boot that was cut short would leave it. */
  public leaveContainer(name: string, image: string): this {
    writeTree(join(this.state, 'containers'), { [name]: `${image}\n` });
    return this;
  }

  public calls(): Call[] {
    return readFileSync(join(this.state, 'calls.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Call);
  }

  /** What the n-th `podman run` (1-based) saw: the worker config and its /tmp. */
  public workerRun(n: number): { config: string; tmp: string[]; tmpDir: string } {
    const dir = join(this.state, 'runs', String(n));
    if (!existsSync(dir)) {
      throw new Error(`there was no podman run #${n}`);
    }
    const tmpDir = join(dir, 'tmp');
    return { config: readFileSync(join(dir, 'config.yaml'), 'utf8'), tmp: listTree(tmpDir), tmpDir };
  }

  public workerRunCount(): number {
    const dir = join(this.state, 'runs');
    return existsSync(dir) ? readdirSync(dir).length : 0;
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
    const before = this.calls().length;
    const result = spawnSync(BASH, [SCRIPTS[script]], {
      cwd: this.base,
      env: this.env(script, options, extra),
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
export function moduleImageFiles(options: ValidatedMachineConfigOptions, kernel: string): Tree {
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

export function writeTree(dir: string, files: Tree): void {
  for (const [path, contents] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, contents);
  }
}

/** Every file below `dir`, as sorted relative paths. */
export function listTree(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) {
    return [];
  }
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory()
      ? listTree(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`]))
    .sort();
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
