import { readFileSync } from 'fs';
import { join } from 'path';
import { dataUrl } from '../../src/ignition';
import { BootModuleConfigSpec } from '../../src/imports/bootmoduleconfig-kmm.sigs.x-k8s.io';

/*
 * A stand-in for the KMM operator's BootModuleConfig reconciler, written from the facts in
 * issue #10 only (not from the operator's code): given a BootModuleConfig spec, the
 * MachineConfig the operator writes. It reads the spec only (never the Module), names the
 * MachineConfig `spec.machineConfigName`, labels it with the role only, and replaces ALL of
 * `spec.config`: its own two units (exactly the directives and environment the issue lists,
 * plus the [Install] section that `enabled: true` needs), `crio-wipe.service` disabled and
 * masked, and its own three scripts at our three paths. The units and scripts are real files
 * in test/fixtures/kmm-operator/ (the scripts are stand-ins too; see their headers).
 */

export const KMM_OPERATOR_FIXTURES = join(__dirname, '..', 'fixtures', 'kmm-operator');

/** What an empty `workerImage` becomes: the operator's own worker image (a stand-in reference). */
export const KMM_OPERATOR_WORKER_IMAGE = 'registry.example.invalid/kmm/kernel-module-management-worker:operator';

/** The one worker config path the operator's replace units give every module. */
export const KMM_OPERATOR_WORKER_CONFIG = '/var/lib/kmm_day1_config.yaml';

/** The one image archive path the operator's pull units give every module. */
export const KMM_OPERATOR_IMAGE_FILE = '/var/lib/image_file_day1.tar';

/** The operator's scripts: path on the node, file in the fixtures, mode (its replace script is world-writable). */
export const KMM_OPERATOR_SCRIPTS = [
  { path: '/usr/local/bin/replace-kernel-module.sh', file: 'replace-kernel-module.sh', mode: 0o777 },
  { path: '/usr/local/bin/pull-kernel-module-image.sh', file: 'pull-kernel-module-image.sh', mode: 0o755 },
  { path: '/usr/local/bin/wait-for-dispatcher.sh', file: 'wait-for-dispatcher.sh', mode: 0o755 },
] as const;

const ROLE_LABEL = 'machineconfiguration.openshift.io/role';

function fixture(name: string): string {
  return readFileSync(join(KMM_OPERATOR_FIXTURES, name), 'utf8');
}

/** Fills `@NAME@` placeholders verbatim: the operator escapes nothing. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (placeholder, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new Error(`no value for ${placeholder}`);
    }
    return value;
  });
}

/** The MachineConfig the KMM operator writes for this BootModuleConfig spec. */
export function kmmOperatorMachineConfig(spec: BootModuleConfigSpec): any {
  const workerImage = spec.workerImage === undefined || spec.workerImage === '' ? KMM_OPERATOR_WORKER_IMAGE : spec.workerImage;
  const values = {
    KERNEL_MODULE: spec.kernelModuleName,
    KERNEL_MODULE_IMAGE: spec.kernelModuleImage,
    WORKER_IMAGE: workerImage,
    IN_TREE_MODULES_TO_REMOVE: (spec.inTreeModulesToRemove ?? []).join(' '),
    FIRMWARE_FILES_PATH: spec.firmwareFilesPath ?? '',
  };
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: {
      name: spec.machineConfigName,
      labels: { [ROLE_LABEL]: spec.machineConfigPoolName },
    },
    spec: {
      config: {
        ignition: { version: '3.2.0' },
        storage: {
          files: KMM_OPERATOR_SCRIPTS.map((script) => ({
            path: script.path,
            mode: script.mode,
            overwrite: true,
            contents: { source: dataUrl(fixture(script.file)) },
          })),
        },
        systemd: {
          units: [
            { name: `${spec.machineConfigName}-replace-kernel-module.service`, enabled: true, contents: fill(fixture('replace-kernel-module.service'), values) },
            { name: `${spec.machineConfigName}-pull-kernel-module-image.service`, enabled: true, contents: fill(fixture('pull-kernel-module-image.service'), values) },
            { name: 'crio-wipe.service', enabled: false, mask: true },
          ],
        },
      },
    },
  };
}

/** Contents of the operator's script for a node path. */
export function kmmOperatorScript(path: string): string {
  const script = KMM_OPERATOR_SCRIPTS.find((s) => s.path === path);
  if (script === undefined) {
    throw new Error(`the operator writes no script at ${path}`);
  }
  return fixture(script.file);
}
