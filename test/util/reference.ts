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
