import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { load, loadAll } from 'js-yaml';
import { buildApp, CONSTRUCTION_ORDER, DIST_PATH, ExampleStep, POOL_NAME, REPO_URL, synth } from '../../examples/ice-nic-driver/main';
import { hasCrd } from '../constructs/helpers';
import { crdViolations } from '../util/crd';
import { readTree } from '../util/files';
import { withKubectl } from '../util/oracles';
import { directives, parseUnitFile } from '../util/systemd';

/*
 * The example app as users run it: synthesized in-process (through its exported builder,
 * against src/), and once through the real `cdk8s synth` (ts-node, against the built lib/).
 */

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'ice-nic-driver');
/** The path of dist/ inside the repository, as Argo CD and Flux are given it. */
const DIST_IN_REPO = relative(ROOT, join(EXAMPLE, 'dist')).split('\\').join('/');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: any;
}

interface Synthesized {
  /** file (relative to the output folder) → its text */
  files: Map<string, string>;
  /** every object, with the file it is in */
  objects: Array<{ file: string; object: K8sObject }>;
}

function readOutput(dir: string): Synthesized {
  const files = readTree(dir);
  const objects: Synthesized['objects'] = [];
  for (const [file, text] of files) {
    if (!file.endsWith('.k8s.yaml')) continue;
    const documents = loadAll(text) as K8sObject[];
    expect({ file, documents: documents.length }).toEqual({ file, documents: 1 });
    objects.push({ file, object: documents[0] });
  }
  return { files, objects };
}

/** The folders Argo CD and Flux sync, in stage order, and the ones an admin applies once. */
const STAGES = ['0000-pool', '0001-day1', '0002-kmm'];
const ARGOCD_BOOTSTRAP = '0003-bootstrap-argocd';
const FLUX_BOOTSTRAP = '0004-bootstrap-flux';

const folderOf = (file: string) => file.split('/')[0];
const inStages = ({ file }: { file: string }) => STAGES.includes(folderOf(file));
const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave']);

const tmpDirs: string[] = [];
function tmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => tmpDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

let out: Synthesized;
beforeAll(() => {
  out = readOutput(synth(tmp('ice-nic-driver-')));
});

const H = {
  protection: {
    'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
    'kustomize.toolkit.fluxcd.io/prune': 'disabled',
  },
  wave: (w: string) => ({ 'argocd.argoproj.io/sync-wave': w }),
};

describe('examples/ice-nic-driver', () => {
  test('main.ts imports the library by its package name, as a user does', () => {
    const source = readFileSync(join(EXAMPLE, 'main.ts'), 'utf8');
    expect(source).toMatch(/from 'cdk8s-kmm-day1';/);
    expect(source).not.toMatch(/from '\.\.\/|src\//);
  });

  test('the synthesized objects, stage by stage: file, kind, name and wave', () => {
    const table = out.objects.filter(inStages).map(({ file, object }) => [file, object.kind, object.metadata.name, wave(object)]);
    expect(table).toEqual([
      ['0000-pool/MachineConfigPool.oot-nic.k8s.yaml', 'MachineConfigPool', POOL_NAME, -10],
      ['0001-day1/DaemonSet.99-oot-nic-kmm-day1-ice.k8s.yaml', 'DaemonSet', '99-oot-nic-kmm-day1-ice', 0],
      ['0001-day1/DaemonSet.99-oot-nic-kmm-day1-sfc.k8s.yaml', 'DaemonSet', '99-oot-nic-kmm-day1-sfc', 0],
      ['0001-day1/MachineConfig.99-oot-nic-kmm-day1-ice.k8s.yaml', 'MachineConfig', '99-oot-nic-kmm-day1-ice', -5],
      ['0001-day1/MachineConfig.99-oot-nic-kmm-day1-sfc.k8s.yaml', 'MachineConfig', '99-oot-nic-kmm-day1-sfc', -5],
      ['0001-day1/Namespace.kmm-day1-health.k8s.yaml', 'Namespace', 'kmm-day1-health', 0],
      ['0002-kmm/BootModuleConfig.99-oot-nic-kmm-day1-ice.k8s.yaml', 'BootModuleConfig', '99-oot-nic-kmm-day1-ice', 5],
      ['0002-kmm/Module.ice.k8s.yaml', 'Module', 'ice', 5],
    ]);
    expect([...out.files.keys()].filter((f) => !f.endsWith('.k8s.yaml'))).toEqual([
      '0000-pool/kustomization.yaml', '0001-day1/kustomization.yaml', '0002-kmm/kustomization.yaml',
      `${ARGOCD_BOOTSTRAP}/kustomization.yaml`, `${FLUX_BOOTSTRAP}/kustomization.yaml`, 'kustomization.yaml',
    ]);
  });

  test('the bootstrap folders: the delivery an admin applies once, for Argo CD and for Flux', () => {
    const table = out.objects.filter((o) => !inStages(o)).map(({ file, object }) => [file, object.kind, key(object)]);
    expect(table).toEqual([
      [`${ARGOCD_BOOTSTRAP}/Application.ice-nic-driver.k8s.yaml`, 'Application', 'Application/openshift-gitops/ice-nic-driver'],
      [`${ARGOCD_BOOTSTRAP}/ClusterRole.ice-nic-driver-argocd.k8s.yaml`, 'ClusterRole', 'ClusterRole//ice-nic-driver-argocd'],
      [`${ARGOCD_BOOTSTRAP}/ClusterRoleBinding.ice-nic-driver-argocd.k8s.yaml`, 'ClusterRoleBinding', 'ClusterRoleBinding//ice-nic-driver-argocd'],
      [`${FLUX_BOOTSTRAP}/ClusterRole.ice-nic-driver-flux.k8s.yaml`, 'ClusterRole', 'ClusterRole//ice-nic-driver-flux'],
      [`${FLUX_BOOTSTRAP}/ClusterRoleBinding.ice-nic-driver-flux.k8s.yaml`, 'ClusterRoleBinding', 'ClusterRoleBinding//ice-nic-driver-flux'],
      [`${FLUX_BOOTSTRAP}/GitRepository.ice-nic-driver.k8s.yaml`, 'GitRepository', 'GitRepository/flux-system/ice-nic-driver'],
      [`${FLUX_BOOTSTRAP}/Kustomization.ice-nic-driver-day1.k8s.yaml`, 'Kustomization', 'Kustomization/flux-system/ice-nic-driver-day1'],
      [`${FLUX_BOOTSTRAP}/Kustomization.ice-nic-driver-kmm.k8s.yaml`, 'Kustomization', 'Kustomization/flux-system/ice-nic-driver-kmm'],
      [`${FLUX_BOOTSTRAP}/Kustomization.ice-nic-driver-pool.k8s.yaml`, 'Kustomization', 'Kustomization/flux-system/ice-nic-driver-pool'],
    ]);
    // Applied once, by hand: no wave, no prune protection, nothing a sync would read.
    for (const { object } of out.objects.filter((o) => !inStages(o))) expect(object.metadata.annotations).toBeUndefined();
  });

  test('the hand-kept YAML is gone: gitops/ no longer exists', () => {
    expect(existsSync(join(EXAMPLE, 'gitops'))).toBe(false);
  });

  test('every object of a CRD kind conforms to its CRD, with nothing pruned', () => {
    const checked = out.objects.filter(({ object }) => hasCrd(object));
    expect(checked.map(({ object }) => object.kind).sort()).toEqual([
      'Application', 'BootModuleConfig', 'GitRepository', 'Kustomization', 'Kustomization', 'Kustomization',
      'MachineConfig', 'MachineConfig', 'MachineConfigPool', 'Module',
    ]);
    for (const { file, object } of checked) {
      expect({ file, violations: crdViolations(object) }).toEqual({ file, violations: [] });
    }
  });

  test('GitOps annotations of every synced object', () => {
    const annotations = Object.fromEntries(out.objects.filter(inStages).map(({ object }) => [key(object), object.metadata.annotations]));
    expect(annotations).toEqual({
      'MachineConfigPool//oot-nic': { ...H.wave('-10'), ...H.protection },
      'MachineConfig//99-oot-nic-kmm-day1-ice': { ...H.wave('-5'), ...H.protection, 'kustomize.toolkit.fluxcd.io/ssa': 'IfNotPresent' },
      'MachineConfig//99-oot-nic-kmm-day1-sfc': { ...H.wave('-5'), ...H.protection },
      'Namespace//kmm-day1-health': H.wave('0'),
      'DaemonSet/kmm-day1-health/99-oot-nic-kmm-day1-ice': H.wave('0'),
      'DaemonSet/kmm-day1-health/99-oot-nic-kmm-day1-sfc': H.wave('0'),
      'BootModuleConfig/openshift-machine-config-operator/99-oot-nic-kmm-day1-ice': H.wave('5'),
      'Module/openshift-kmm/ice': { 'kustomize.toolkit.fluxcd.io/substitute': 'disabled', ...H.wave('5'), ...H.protection },
    });
  });

  test('the stages are ordered by wave and by folder: pool < MachineConfigs < health checks < KMM objects', () => {
    const synced = out.objects.filter(inStages);
    const wavesOf = (kind: string) => [...new Set(synced.filter(({ object }) => object.kind === kind).map(({ object }) => wave(object)))];
    const [pool, machineConfig, daemonSet, namespace, bootModuleConfig, module] =
      ['MachineConfigPool', 'MachineConfig', 'DaemonSet', 'Namespace', 'BootModuleConfig', 'Module'].map(wavesOf);
    for (const waves of [pool, machineConfig, daemonSet, namespace, bootModuleConfig, module]) expect(waves).toHaveLength(1);
    expect(pool[0]).toBeLessThan(machineConfig[0]);
    expect(machineConfig[0]).toBeLessThan(daemonSet[0]);
    expect(namespace[0]).toBeLessThanOrEqual(daemonSet[0]);
    expect(daemonSet[0]).toBeLessThan(bootModuleConfig[0]);
    expect(daemonSet[0]).toBeLessThan(module[0]);
    // Folder by folder, every wave is later than every wave of the folders before it.
    expect([...new Set(out.objects.map(({ file }) => folderOf(file)))]).toEqual([...STAGES, ARGOCD_BOOTSTRAP, FLUX_BOOTSTRAP]);
    const range = (folder: string) => synced.filter(({ file }) => folderOf(file) === folder).map(({ object }) => wave(object));
    for (let i = 1; i < STAGES.length; i++) {
      expect(Math.max(...range(STAGES[i - 1]))).toBeLessThan(Math.min(...range(STAGES[i])));
    }
  });

  test('the hand-over: ice is handed over on the pool\'s nodes, sfc (which has parameters) is not', () => {
    const objects = out.objects.map(({ object }) => object);
    const pool = objects.find((o) => o.kind === 'MachineConfigPool')!;
    const bootModuleConfig = objects.find((o) => o.kind === 'BootModuleConfig')!;
    const module = objects.find((o) => o.kind === 'Module')!;
    expect(bootModuleConfig.spec).toEqual({
      machineConfigName: '99-oot-nic-kmm-day1-ice',
      machineConfigPoolName: POOL_NAME,
      kernelModuleImage: 'quay.io/example/ice-driver',
      kernelModuleName: 'ice',
      inTreeModulesToRemove: ['ice'],
      firmwareFilesPath: '/opt/lib/firmware/intel/ice',
      // The Day 1 worker image: the operator's own would change the MachineConfig, one more pull and reboot per node.
      workerImage: 'quay.io/edge-infrastructure/kernel-module-management-worker:latest',
    });
    expect(module.spec.selector).toEqual(pool.spec.nodeSelector.matchLabels);
    expect(module.spec.moduleLoader.container.modprobe).toEqual({ moduleName: 'ice', dirName: '/opt', firmwarePath: '/opt/lib/firmware/intel/ice' });
    // KMM's worker would unload the ice that Day 1 loaded, on every node at once.
    expect(module.spec.moduleLoader.container).not.toHaveProperty('inTreeModulesToRemove');
  });

  test('the two replace units of the pool are ordered by name: ice loads first, then sfc', () => {
    const unitOf = (name: string) => {
      const machineConfig = out.objects.find(({ object }) => object.kind === 'MachineConfig' && object.metadata.name === name)!.object;
      const unit = machineConfig.spec.config.systemd.units.find((u: { name: string }) => u.name === `${name}-replace-kernel-module.service`);
      return parseUnitFile(unit.contents);
    };
    const ice = unitOf('99-oot-nic-kmm-day1-ice');
    const sfc = unitOf('99-oot-nic-kmm-day1-sfc');
    expect(directives(ice, 'Unit', 'Before')).toEqual(['network-pre.target', '99-oot-nic-kmm-day1-sfc-replace-kernel-module.service']);
    expect(directives(ice, 'Unit', 'After')).toEqual(['local-fs.target']);
    expect(directives(sfc, 'Unit', 'After')).toEqual(['local-fs.target', '99-oot-nic-kmm-day1-ice-replace-kernel-module.service']);
    expect(directives(sfc, 'Unit', 'Before')).toEqual(['network-pre.target']);
    // The pull units carry no ordering of their own.
    for (const name of ['99-oot-nic-kmm-day1-ice', '99-oot-nic-kmm-day1-sfc']) {
      const machineConfig = out.objects.find(({ object }) => object.metadata.name === name && object.kind === 'MachineConfig')!.object;
      expect(machineConfig.spec.config.systemd.units[1].contents).not.toMatch(/-replace-kernel-module\.service/);
    }
  });

  test('the health checks: the pool\'s nodes and taint, restricted pods, a probe that requires the out-of-tree build', () => {
    const pool = out.objects.find(({ object }) => object.kind === 'MachineConfigPool')!.object;
    const daemonSets = out.objects.filter(({ object }) => object.kind === 'DaemonSet').map(({ object }) => object);
    expect(daemonSets.map((d) => d.metadata.name)).toEqual(['99-oot-nic-kmm-day1-ice', '99-oot-nic-kmm-day1-sfc']);
    for (const daemonSet of daemonSets) {
      const module = daemonSet.metadata.name.split('-').pop();
      const pod = daemonSet.spec.template.spec;
      expect(pod.nodeSelector).toEqual(pool.spec.nodeSelector.matchLabels);
      expect(pod.tolerations).toEqual([{ key: `node-role.kubernetes.io/${POOL_NAME}`, operator: 'Exists', effect: 'NoSchedule' }]);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toEqual({ fsGroupChangePolicy: 'Always', runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.volumes).toBeUndefined();
      expect(pod.containers).toHaveLength(1);
      const container = pod.containers[0];
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
      });
      expect(container.command).toEqual(['sleep', 'infinity']);
      expect(container.resources).toEqual({ limits: { cpu: '50m', memory: '32Mi' }, requests: { cpu: '5m', memory: '16Mi' } });
      const script: string = container.readinessProbe.exec.command[2];
      expect(container.readinessProbe.exec.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
      expect(script.split('\n')[0]).toBe(`m=/sys/module/${module}`);
      expect(script).toContain('case "$taint" in *O*) ;;');
      expect(JSON.stringify(daemonSet)).not.toMatch(/runAsUser|hostPath|cdk8s\.io\/metadata\.addr/);
    }
  });

  test('each kustomization.yaml lists exactly the manifests of its folder; the root one the stage folders in order, no bootstrap folder', () => {
    const root = load(out.files.get('kustomization.yaml')!) as { resources: string[] };
    expect(root).toEqual({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: STAGES });
    for (const folder of [...STAGES, ARGOCD_BOOTSTRAP, FLUX_BOOTSTRAP]) {
      const kustomization = load(out.files.get(`${folder}/kustomization.yaml`)!) as { resources: string[] };
      const manifests = out.objects.filter(({ file }) => folderOf(file) === folder).map(({ file }) => file.slice(folder.length + 1));
      expect(kustomization.resources).toEqual(manifests);
    }
  });

  withKubectl()('kubectl kustomize builds dist/ (the stages only) and every folder, and the output is exactly the synthesized objects', () => {
    const outdir = synth(tmp('ice-nic-driver-kustomize-'));
    const build = (dir: string) => {
      const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      expect({ dir, status: result.status, stderr: result.stderr }).toEqual({ dir, status: 0, stderr: '' });
      return (loadAll(result.stdout) as K8sObject[]).sort((a, b) => key(a).localeCompare(key(b)));
    };
    const expected = (folders: string[]) => out.objects.filter(({ file }) => folders.includes(folderOf(file))).map(({ object }) => object)
      .sort((a, b) => key(a).localeCompare(key(b)));
    expect(build(outdir)).toEqual(expected(STAGES));
    for (const folder of [...STAGES, ARGOCD_BOOTSTRAP, FLUX_BOOTSTRAP]) {
      expect(build(join(outdir, folder))).toEqual(expected([folder]));
    }
  });

  test('synthesis is deterministic: two builds give the same files, byte for byte', () => {
    expect(readOutput(synth(tmp('ice-nic-driver-again-'))).files).toEqual(out.files);
  });

  test('the construction order changes nothing: the delivery first, sfc before ice, gives the same files, byte for byte', () => {
    const reversed: ExampleStep[] = ['flux', 'argoCd', 'sfc', 'ice', 'handOver'];
    expect([...reversed].sort()).toEqual([...CONSTRUCTION_ORDER].sort());
    const files = readOutput(synth(tmp('ice-nic-driver-reversed-'), reversed)).files;
    expect([...files.keys()]).toEqual([...out.files.keys()]);
    expect(files).toEqual(out.files);
  });

  test('buildApp returns the app and its delivery without writing anything', () => {
    const outdir = join(tmp('ice-nic-driver-unwritten-'), 'dist');
    const { app, argoCd, flux } = buildApp(outdir);
    expect(app.charts.map((chart) => chart.node.id)).toEqual(['pool', 'day1', 'kmm', 'bootstrap-argocd', 'bootstrap-flux']);
    expect(argoCd.stageFolders()).toEqual(STAGES);
    expect(flux.stageFolders()).toEqual(STAGES);
    expect(existsSync(outdir)).toBe(false);
  });

  test('`cdk8s synth` in the example folder (ts-node, the built lib/) writes the same files', () => {
    if (!existsSync(join(ROOT, 'lib', 'index.js'))) {
      throw new Error('lib/ is not built: run `npx projen compile && npx projen post-compile` (the README test command does)');
    }
    const outdir = join(tmp('ice-nic-driver-cli-'), 'dist');
    const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade', '--output', outdir],
      { cwd: EXAMPLE, encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(readTree(outdir)).toEqual(out.files);
  });
});

describe('examples/ice-nic-driver: the synthesized delivery', () => {
  const objectsIn = (folder: string) => out.objects.filter(({ file }) => folderOf(file) === folder).map(({ object }) => object as any);
  const handedOver = () => out.objects.filter(({ object }) => object.kind === 'BootModuleConfig').map(({ object }) => object.spec.machineConfigName);

  test('Argo CD: the Application syncs dist/ automatically, with prune and selfHeal, and no finalizer', () => {
    const [application] = objectsIn(ARGOCD_BOOTSTRAP).filter((o) => o.kind === 'Application');
    expect([application.apiVersion, application.metadata]).toEqual(['argoproj.io/v1alpha1', { name: 'ice-nic-driver', namespace: 'openshift-gitops' }]);
    expect(application.spec.source).toEqual({ repoURL: REPO_URL, targetRevision: 'main', path: DIST_IN_REPO });
    expect(DIST_PATH).toBe(DIST_IN_REPO);
    expect(application.spec.destination).toEqual({ server: 'https://kubernetes.default.svc' });
    expect(application.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(application.metadata.finalizers).toBeUndefined();
  });

  test('Argo CD: it ignores /spec/config of exactly the handed-over MachineConfigs, and respects that when syncing', () => {
    const [application] = objectsIn(ARGOCD_BOOTSTRAP).filter((o) => o.kind === 'Application');
    expect(handedOver()).toEqual(['99-oot-nic-kmm-day1-ice']);
    expect(application.spec.ignoreDifferences).toEqual(handedOver().map((name) => ({
      group: 'machineconfiguration.openshift.io', kind: 'MachineConfig', name, jsonPointers: ['/spec/config'],
    })));
    expect(application.spec.syncPolicy.syncOptions).toEqual(['RespectIgnoreDifferences=true']);
  });

  test('Flux: one Kustomization per stage folder, each depending on the one before, pruning, waiting for health', () => {
    const [source] = objectsIn(FLUX_BOOTSTRAP).filter((o) => o.kind === 'GitRepository');
    expect([source.apiVersion, source.metadata.namespace]).toEqual(['source.toolkit.fluxcd.io/v1', 'flux-system']);
    expect(source.spec).toEqual({ interval: '5m', url: REPO_URL, ref: { branch: 'main' } });
    // In dependency order (the files are in name order).
    const byName = new Map(objectsIn(FLUX_BOOTSTRAP).filter((o) => o.kind === 'Kustomization').map((k) => [k.metadata.name, k]));
    const kustomizations: any[] = [];
    let next = [...byName.values()].find((k) => k.spec.dependsOn === undefined);
    while (next !== undefined) {
      kustomizations.push(next);
      const name = next.metadata.name;
      next = [...byName.values()].find((k) => k.spec.dependsOn?.[0]?.name === name);
    }
    expect(kustomizations).toHaveLength(byName.size);
    expect(kustomizations.map((k) => k.spec.path)).toEqual(STAGES.map((folder) => `./${DIST_IN_REPO}/${folder}`));
    kustomizations.forEach((k, i) => {
      expect([k.apiVersion, k.metadata.namespace]).toEqual(['kustomize.toolkit.fluxcd.io/v1', 'flux-system']);
      expect(k.spec.sourceRef).toEqual({ kind: 'GitRepository', name: source.metadata.name });
      expect(k.spec.prune).toBe(true);
      expect(k.spec.wait).toBe(true);
      expect(k.spec.dependsOn).toEqual(i === 0 ? undefined : [{ name: kustomizations[i - 1].metadata.name }]);
    });
    // The stage that holds the health checks is the one the KMM stage waits for, with the long timeout.
    const healthFolder = folderOf(out.objects.find(({ object }) => object.kind === 'DaemonSet')!.file);
    const kmmFolder = folderOf(out.objects.find(({ object }) => object.kind === 'Module')!.file);
    const forFolder = (folder: string) => kustomizations.find((k) => k.spec.path.endsWith(`/${folder}`));
    expect(forFolder(kmmFolder).spec.dependsOn).toEqual([{ name: forFolder(healthFolder).metadata.name }]);
    expect(kustomizations.map((k) => k.spec.timeout)).toEqual(STAGES.map((folder) => (folder === healthFolder ? '3h' : '10m')));
  });

  test('Flux: a Kustomization path that no stage folder has would fail the sync; every one exists after synthesis', () => {
    for (const k of objectsIn(FLUX_BOOTSTRAP).filter((o) => o.kind === 'Kustomization')) {
      const folder = k.spec.path.replace(`./${DIST_IN_REPO}/`, '');
      expect({ path: k.spec.path, kustomization: out.files.has(`${folder}/kustomization.yaml`) }).toEqual({ path: k.spec.path, kustomization: true });
    }
  });

  test.each([
    [ARGOCD_BOOTSTRAP, 'ice-nic-driver-argocd', 'openshift-gitops-argocd-application-controller', 'openshift-gitops'],
    [FLUX_BOOTSTRAP, 'ice-nic-driver-flux', 'kustomize-controller', 'flux-system'],
  ])('%s: the ClusterRole grants exactly what the synced objects need, bound to the controller', (folder, name, serviceAccount, namespace) => {
    const [role] = objectsIn(folder).filter((o) => o.kind === 'ClusterRole');
    const [binding] = objectsIn(folder).filter((o) => o.kind === 'ClusterRoleBinding');
    expect(role.metadata.name).toBe(name);
    const apply = ['get', 'list', 'watch', 'create', 'patch'];
    // Prune protection (MachineConfigPool, MachineConfigs, Module) means no delete; the health
    // check Namespace and DaemonSets and the BootModuleConfig are pruned when they leave Git.
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: [...apply, 'delete'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: [...apply, 'delete'] },
      { apiGroups: ['kmm.sigs.x-k8s.io'], resources: ['modules'], verbs: apply },
      { apiGroups: ['kmm.sigs.x-k8s.io'], resources: ['bootmoduleconfigs'], verbs: [...apply, 'delete'] },
      { apiGroups: ['machineconfiguration.openshift.io'], resources: ['machineconfigpools', 'machineconfigs'], verbs: apply },
    ]);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: serviceAccount, namespace }]);
  });
});
