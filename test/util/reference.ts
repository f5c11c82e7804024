import { ProduceMachineConfigOptions } from '../../src';

/** The reference case of KMM's own mcproducer test, used by golden tests and benchmarks. */
export const REFERENCE_OPTIONS: ProduceMachineConfigOptions = {
  machineConfigName: 'name',
  machineConfigPoolRef: 'mcpRef',
  kernelModuleImage: 'quay.io/project/repo',
  kernelModuleName: 'testKernelModuleName',
  firmwareFilesPath: '/opt/lib/test/firmware',
  inTreeModulesToRemove: ['it1', 'it2'],
};

/** The same reference case as day1-utility flags (documentation, CLI tests, benchmark). */
export const REFERENCE_ARGS: readonly string[] = [
  '--machine-config', 'name',
  '--machine-config-pool', 'mcpRef',
  '--image', 'quay.io/project/repo',
  '--kernel-module', 'testKernelModuleName',
  '--firmware-files-path', '/opt/lib/test/firmware',
  '--in-tree-modules-to-remove', 'it1,it2',
];
