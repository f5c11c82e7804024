import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ApiObject, App, Chart, Include, JsonPatch, Testing } from 'cdk8s';
import { dump, load } from 'js-yaml';
import { Day1KernelModule, IMachineConfigPool, KmmMachineConfigPool, produceMachineConfig, ProduceMachineConfigOptions } from '../../../src';
import { PULL_SCRIPT_PATH, REPLACE_SCRIPT_PATH, SCRIPT_PATHS } from '../../../src/boot';
import { dataUrl } from '../../../src/ignition';
import { directives, parseUnitFile } from '../../util/systemd';
import { clusterPool, errorOf, Manifest, synthManifests, synthYaml } from '../helpers';
import { IMAGE } from '../scenarios';

/*
 * At synthesis the app is seen as the Machine Config Operator sees each pool: every Day 1
 * MachineConfig is ordered against the others on its nodes, and a MachineConfig the user added
 * by hand (ApiObject, Include) that would break a Day 1 one fails the synthesis, naming both.
 */

const ROLE = 'machineconfiguration.openshift.io/role';

function userMachineConfig(scope: Chart, id: string, name: string, role: string, config: { files?: any[]; units?: any[] }): ApiObject {
  return new ApiObject(scope, id, {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: { name, labels: { [ROLE]: role } },
    spec: { config: { ignition: { version: '3.2.0' }, storage: { files: config.files ?? [] }, systemd: { units: config.units ?? [] } } },
  });
}

/** The replace unit's ordering against other replace units, as `After`/`Before` → peer names. */
function ordering(machineConfig: Manifest): { after: string[]; before: string[] } {
  const unit = parseUnitFile(machineConfig.spec.config.systemd.units[0].contents);
  const peers = (key: string) => directives(unit, 'Unit', key)
    .filter((v) => v.endsWith('-replace-kernel-module.service')).map((v) => v.slice(0, -'-replace-kernel-module.service'.length));
  return { after: peers('After'), before: peers('Before') };
}

function machineConfigs(app: App): Map<string, Manifest> {
  return new Map(synthManifests(app).filter((m) => m.kind === 'MachineConfig').map((m) => [m.metadata.name, m]));
}

function synthError(app: App): string {
  return errorOf(() => synthYaml(app)).message;
}

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function yamlFile(documents: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kmm-day1-include-'));
  tmpDirs.push(dir);
  const file = join(dir, 'machineconfigs.yaml');
  writeFileSync(file, documents.map((d) => dump(d, { lineWidth: -1 })).join('---\n'));
  return file;
}

describe('peers: every Day 1 MachineConfig is ordered against the others on its nodes', () => {
  function fleet() {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    const sfc = new KmmMachineConfigPool(chart, 'sfc-pool', { name: 'sfc' });
    const rt = new KmmMachineConfigPool(chart, 'rt-pool', { name: 'rt' });
    const module = (id: string, pool: IMachineConfigPool) =>
      new Day1KernelModule(chart, id, { pool, kernelModuleImage: `${IMAGE}-${id}`, kernelModuleName: id });
    module('a', sfc);
    module('b', sfc);
    module('w', KmmMachineConfigPool.fromPoolName(chart, 'worker', 'worker'));
    module('r', rt);
    module('m', KmmMachineConfigPool.fromPoolName(chart, 'master', 'master'));
    // A pool of the cluster that the app has no object of: a custom pool, built on worker.
    module('x', KmmMachineConfigPool.fromPoolName(chart, 'infra', 'infra'));
    return app;
  }

  test('a custom pool and its base role: the same nodes; sibling pools and master: not', () => {
    const mcs = machineConfigs(fleet());
    const order = (id: string, role: string) => ordering(mcs.get(`99-${role}-kmm-day1-${id}`)!);
    expect(order('a', 'sfc')).toEqual({ after: [], before: ['99-sfc-kmm-day1-b', '99-worker-kmm-day1-w'] });
    expect(order('b', 'sfc')).toEqual({ after: ['99-sfc-kmm-day1-a'], before: ['99-worker-kmm-day1-w'] });
    expect(order('r', 'rt')).toEqual({ after: [], before: ['99-worker-kmm-day1-w'] });
    expect(order('x', 'infra')).toEqual({ after: [], before: ['99-worker-kmm-day1-w'] });
    // worker's units run on every worker-based pool's nodes too, but the custom pools' units carry
    // that ordering: a worker MachineConfig that changed with every custom-pool module would
    // reboot the whole worker pool each time.
    expect(order('w', 'worker')).toEqual({ after: [], before: [] });
    expect(order('m', 'master')).toEqual({ after: [], before: [] });
  });

  test('the synthesized spec equals produceMachineConfig\'s for the same options and peers', () => {
    const mcs = machineConfigs(fleet());
    const expected = (name: string, role: string, id: string, peers: string[]) => {
      const options: ProduceMachineConfigOptions = {
        machineConfigName: name, machineConfigPoolRef: role, kernelModuleImage: `${IMAGE}-${id}`, kernelModuleName: id, peerMachineConfigNames: peers,
      };
      return (load(produceMachineConfig(options)) as Manifest).spec;
    };
    expect(mcs.get('99-sfc-kmm-day1-b')!.spec).toEqual(expected('99-sfc-kmm-day1-b', 'sfc', 'b', ['99-worker-kmm-day1-w', '99-sfc-kmm-day1-a']));
    expect(mcs.get('99-worker-kmm-day1-w')!.spec).toEqual(expected('99-worker-kmm-day1-w', 'worker', 'w', []));
    // And without peers it would differ: the comparison above is not vacuous.
    expect(mcs.get('99-sfc-kmm-day1-b')!.spec).not.toEqual(expected('99-sfc-kmm-day1-b', 'sfc', 'b', []));
  });

  test('the ApiObject\'s own toJson() has the peers the app has when it is called', () => {
    const chart = Testing.chart();
    const a = new Day1KernelModule(chart, 'a', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'a' });
    expect(ordering(a.apiObject.toJson())).toEqual({ after: [], before: [] });
    new Day1KernelModule(chart, 'b', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'b' });
    expect(ordering(a.apiObject.toJson())).toEqual({ after: [], before: ['99-worker-kmm-day1-b'] });
  });

  test('a MachineConfigPool ApiObject of the user decides which roles share nodes', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    new ApiObject(chart, 'gpu-pool', {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfigPool',
      metadata: { name: 'gpu' },
      spec: { machineConfigSelector: { matchExpressions: [{ key: ROLE, operator: 'In', values: ['gpu', 'infra'] }] } },
    });
    new Day1KernelModule(chart, 'g', { pool: clusterPool(chart, 'gpu'), kernelModuleImage: IMAGE, kernelModuleName: 'g' });
    new Day1KernelModule(chart, 'i', { pool: clusterPool(chart, 'infra'), kernelModuleImage: IMAGE, kernelModuleName: 'i' });
    new Day1KernelModule(chart, 'w', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'w' });
    const mcs = machineConfigs(app);
    // gpu nodes get gpu and infra, not worker; infra nodes (no pool in the app) get worker and infra.
    // Each pair is ordered by the MachineConfig of the narrower role (gpu's orders it against
    // infra's), so adding a gpu module never changes the infra or worker MachineConfigs.
    expect(ordering(mcs.get('99-gpu-kmm-day1-g')!)).toEqual({ after: [], before: ['99-infra-kmm-day1-i'] });
    expect(ordering(mcs.get('99-infra-kmm-day1-i')!)).toEqual({ after: [], before: ['99-worker-kmm-day1-w'] });
  });

  test('a Day 1 MachineConfig the user included (made by the CLI) is a peer, and no conflict', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    const cliMade = load(produceMachineConfig({ machineConfigName: '50-worker-cli', machineConfigPoolRef: 'worker', kernelModuleImage: IMAGE, kernelModuleName: 'cli' }));
    new Include(chart, 'cli', { url: yamlFile([cliMade]) });
    new Day1KernelModule(chart, 'w', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'w' });
    const mcs = machineConfigs(app);
    expect(ordering(mcs.get('99-worker-kmm-day1-w')!)).toEqual({ after: ['50-worker-cli'], before: [] });
  });
});

describe('conflicts with MachineConfigs the user added, at synthesis', () => {
  test('a plain ApiObject that writes one of the scripts: the error names both construct paths and what to do', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    const pool = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' });
    new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    userMachineConfig(chart, 'my-scripts', '50-worker-scripts', 'worker', { files: [{ path: REPLACE_SCRIPT_PATH, contents: { source: 'data:,echo%20hi' } }] });
    const message = synthError(app);
    expect(message).toContain(`[c/ice] MachineConfig "50-worker-scripts" writes ${REPLACE_SCRIPT_PATH} with other contents than the Day 1 scripts `
      + 'of MachineConfig "99-sfc-kmm-day1-ice": a node runs one copy of it, the one of the MachineConfig that comes last in the merge (here "99-sfc-kmm-day1-ice")');
    expect(message).toContain('Both reach the nodes of MachineConfigPool "sfc": "50-worker-scripts" is c/my-scripts, "99-sfc-kmm-day1-ice" is c/ice.');
    expect(message).toContain(`Remove ${REPLACE_SCRIPT_PATH} from MachineConfig "50-worker-scripts"`);
    // Reported once, though the worker MachineConfig reaches the worker pool and sfc.
    expect(message.split('writes ').length - 1).toBe(1);
  });

  test('the KMM operator\'s rewrite, included from a file: one error per script and Day 1 MachineConfig', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    const pool = new KmmMachineConfigPool(chart, 'pool', { name: 'oot-nic' });
    new Day1KernelModule(chart, 'sfc', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'sfc' });
    new Include(chart, 'rewritten', {
      url: yamlFile([{
        apiVersion: 'machineconfiguration.openshift.io/v1',
        kind: 'MachineConfig',
        metadata: { name: '99-oot-nic-kmm-day1-ice', labels: { [ROLE]: 'oot-nic' } },
        spec: {
          config: {
            ignition: { version: '3.2.0' },
            storage: { files: SCRIPT_PATHS.map((path) => ({ path, mode: 511, contents: { source: dataUrl(`# operator ${path}\n`) } })) },
            systemd: { units: [{ name: '99-oot-nic-kmm-day1-ice-replace-kernel-module.service', enabled: true, contents: '[Service]\nEnvironment="KERNEL_MODULE=ice"\n' }] },
          },
        },
      }]),
    });
    const message = synthError(app);
    for (const path of SCRIPT_PATHS) {
      expect(message).toContain(`[c/sfc] MachineConfig "99-oot-nic-kmm-day1-ice" writes ${path} with other contents`);
    }
    expect(message).toContain('"99-oot-nic-kmm-day1-ice" is c/rewritten/99-oot-nic-kmm-day1-ice-machineconfig, "99-oot-nic-kmm-day1-sfc" is c/sfc.');
  });

  test('crio-wipe.service enabled, and one of our unit names, by the same user MachineConfig', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    new Day1KernelModule(chart, 'ice', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    userMachineConfig(chart, 'units', '00-worker-units', 'worker', {
      units: [{ name: 'crio-wipe.service', enabled: true }, { name: '99-worker-kmm-day1-ice-pull-kernel-module-image.service', mask: true }],
    });
    const message = synthError(app);
    expect(message).toContain('[c/ice] MachineConfig "00-worker-units" enables crio-wipe.service, which MachineConfig "99-worker-kmm-day1-ice" disables and masks');
    expect(message).toContain('Remove crio-wipe.service from MachineConfig "00-worker-units"');
    expect(message).toContain('[c/ice] MachineConfig "00-worker-units" defines unit 99-worker-kmm-day1-ice-pull-kernel-module-image.service');
    expect(message).toContain('Rename the unit in MachineConfig "00-worker-units", or give the Day1KernelModule another machineConfigName.');
    expect(message.match(/"00-worker-units" is c\/units, "99-worker-kmm-day1-ice" is c\/ice\./g)).toHaveLength(2);
  });

  test('both sides plain objects (a Day 1 MachineConfig made by the CLI, and a foreign one): reported on the app, naming both', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    new Day1KernelModule(chart, 'elsewhere', { pool: clusterPool(chart, 'master'), kernelModuleImage: IMAGE, kernelModuleName: 'm' });
    const cliMade = load(produceMachineConfig({ machineConfigName: '50-worker-cli', machineConfigPoolRef: 'worker', kernelModuleImage: IMAGE, kernelModuleName: 'cli' }));
    new Include(chart, 'cli', { url: yamlFile([cliMade]) });
    userMachineConfig(chart, 'wipe', '60-worker-wipe', 'worker', { units: [{ name: 'crio-wipe.service', enabled: true }] });
    const message = synthError(app);
    expect(message).toContain('[cdk8s-kmm-day1] MachineConfig "60-worker-wipe" enables crio-wipe.service, which MachineConfig "50-worker-cli" disables and masks');
    expect(message).toContain('"60-worker-wipe" is c/wipe, "50-worker-cli" is c/cli/50-worker-cli-machineconfig.');
  });

  test('no error: unrelated user MachineConfigs, and a foreign script in a pool the module does not reach', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    const sfc = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' });
    new KmmMachineConfigPool(chart, 'rt', { name: 'rt' });
    new Day1KernelModule(chart, 'ice', { pool: sfc, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    userMachineConfig(chart, 'chrony', '50-worker-chrony', 'worker', {
      files: [{ path: '/etc/chrony.conf', contents: { source: 'data:,server%20x' } }], units: [{ name: 'chronyd.service', enabled: true }],
    });
    userMachineConfig(chart, 'rt-scripts', '50-rt-scripts', 'rt', { files: [{ path: PULL_SCRIPT_PATH, contents: { source: 'data:,x' } }] });
    userMachineConfig(chart, 'no-role', '50-nowhere', 'nowhere', { units: [{ name: 'crio-wipe.service', enabled: true }] });
    expect(() => synthYaml(app)).not.toThrow();
  });

  test('a user MachineConfig added after a first synthesis is still checked', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    new Day1KernelModule(chart, 'ice', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    expect(() => synthYaml(app)).not.toThrow();
    const late = userMachineConfig(chart, 'late', '10-worker-late', 'worker', { units: [{ name: 'crio-wipe.service', mask: false }] });
    expect(synthError(app)).toContain('MachineConfig "10-worker-late" unmasks crio-wipe.service');
    // Changed after a synthesis, back to harmless: checked again.
    late.addJsonPatch(JsonPatch.replace('/spec/config/systemd/units/0/mask', true));
    expect(() => synthYaml(app)).not.toThrow();
    chart.node.tryRemoveChild('late');
    expect(() => synthYaml(app)).not.toThrow();
  });
});
