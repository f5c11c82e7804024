import { spawnSync } from 'child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { Credentials } from './registry';

/*
 * The images of the real-systemd tier, built on the host with buildah (storage of its own in
 * a temporary directory, vfs: nothing machine-global) and pushed to a loopback registry:
 * module images FROM scratch (or with a busybox shell, for scripts that need one in the module
 * image), and the worker image, busybox-static with the stand-in for the kernel part of KMM's
 * worker as its entrypoint (images/kmm-worker).
 */

export const BUSYBOX = '/bin/busybox';
const WORKER_ENTRYPOINT = join(__dirname, 'images', 'kmm-worker');

/** Files of an image's root filesystem: path → contents. */
export type ImageFiles = Record<string, string>;

/** Where to push: a registry host and its credentials, if it wants any. */
export interface PushTarget {
  readonly host: string;
  readonly credentials?: Credentials;
}

/** What a module image holds. */
export interface ModuleImageSpec {
  /** The module's name: `<name>.ko` under /opt/lib/modules/<kernelRelease>/. */
  readonly moduleName: string;
  /** The release directory of the modules (the node's `uname -r`). */
  readonly kernelRelease: string;
  /** A directory of firmware files (absolute, as in `firmwareFilesPath`); one file `<name>.pkg`. */
  readonly firmwarePath?: string;
  /** Add busybox as /bin/sh and its applets (FROM scratch otherwise). */
  readonly shell?: boolean;
}

function run(command: string, args: string[], what: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${what}: ${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout.trim();
}

/** The root filesystem of a module image laid out as a DTK build leaves it. */
export function moduleImageFiles(spec: ModuleImageSpec): ImageFiles {
  const dir = `opt/lib/modules/${spec.kernelRelease}`;
  const files: ImageFiles = {
    [`${dir}/${spec.moduleName}.ko`]: `${spec.moduleName} for ${spec.kernelRelease}\n`,
    [`${dir}/modules.dep`]: `${spec.moduleName}.ko:\n`,
  };
  if (spec.firmwarePath !== undefined) {
    files[`${spec.firmwarePath.replace(/^\//, '')}/${spec.moduleName}.pkg`] = `firmware of ${spec.moduleName}\n`;
  }
  return files;
}

/** Builds images with buildah in a storage of its own and pushes them. */
export class ImageBuilder {
  private readonly dir = mkdtempSync('/var/tmp/kmm-day1-images-');
  private count = 0;

  /** Builds a FROM scratch image of `files` (plus busybox when `shell`), pushes it as `reference`. */
  public push(target: PushTarget, reference: string, files: ImageFiles, config: { shell?: boolean; entrypoint?: string[] } = {}): string {
    this.count += 1;
    const context = join(this.dir, `context-${this.count}`);
    for (const [path, contents] of Object.entries(files)) {
      const file = join(context, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, contents);
      chmodSync(file, contents.startsWith('#!') ? 0o755 : 0o644);
    }
    if (config.shell === true) addBusybox(context);
    mkdirSync(context, { recursive: true });
    const container = this.buildah('from', 'scratch');
    try {
      this.buildah('copy', container, context, '/');
      if (config.entrypoint !== undefined) {
        this.buildah('config', '--entrypoint', JSON.stringify(config.entrypoint), '--cmd', '', container);
      }
      this.buildah('commit', '--quiet', container, reference);
    } finally {
      this.buildah('rm', container);
    }
    const creds = target.credentials === undefined ? [] : ['--creds', `${target.credentials.username}:${target.credentials.password}`];
    this.buildah('push', '--quiet', '--tls-verify=false', ...creds, reference, `docker://${reference}`);
    rmSync(context, { recursive: true, force: true });
    return reference;
  }

  /** A module image for `spec.kernelRelease`, pushed as `<repository>:<tag>`. */
  public pushModule(target: PushTarget, repository: string, tag: string, spec: ModuleImageSpec): string {
    return this.push(target, `${repository}:${tag}`, moduleImageFiles(spec), { shell: spec.shell });
  }

  /** The worker image: busybox-static, /etc/passwd (for `--user root`), the stand-in as its entrypoint. */
  public pushWorker(target: PushTarget, reference: string): string {
    const context: ImageFiles = {
      'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
      'etc/group': 'root:x:0:\n',
      'usr/local/bin/kmm-worker': readFileSync(WORKER_ENTRYPOINT, 'utf8'),
    };
    return this.push(target, reference, context, { shell: true, entrypoint: ['/usr/local/bin/kmm-worker'] });
  }

  /** The image's digest in the registry (`sha256:...`), for references by digest. */
  public digest(reference: string): string {
    return this.buildah('inspect', '--type', 'image', '--format', '{{.FromImageDigest}}', reference);
  }

  public cleanup(): void {
    spawnSync('buildah', [...this.storage(), 'rm', '--all'], { stdio: 'ignore' });
    // vfs layers are plain directories; nothing is mounted.
    rmSync(this.dir, { recursive: true, force: true });
  }

  private storage(): string[] {
    return ['--root', join(this.dir, 'storage'), '--runroot', join(this.dir, 'run'), '--storage-driver', 'vfs'];
  }

  private buildah(...args: string[]): string {
    return run('buildah', [...this.storage(), ...args], 'building an image');
  }
}

/** busybox-static as /bin/busybox, /bin/sh and the applets the stand-ins use. */
function addBusybox(context: string): void {
  mkdirSync(join(context, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(context, 'bin/busybox'));
  chmodSync(join(context, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'awk', 'sed', 'head', 'tail', 'cp', 'mkdir', 'sleep', 'uname', 'find', 'sort', 'tr', 'ls', 'cat', 'true']) {
    symlinkSync('busybox', join(context, 'bin', applet));
  }
}
