import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import { load } from 'js-yaml';
import { ArgoCdApplication, Day1KernelModule, FluxDelivery, KmmMachineConfigPool, KustomizeOutput } from '../../../src';
import { errorOf } from '../helpers';
import { IMAGE } from '../scenarios';

/*
 * KustomizeOutput against what cdk8s really wrote: every expectation is read from the output
 * folder, or spelled out, never from the library's own folder naming.
 */

const REPO = 'https://git.example.com/platform/cluster-config.git';
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function outdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kmm-day1-kustomize-'));
  dirs.push(dir);
  return dir;
}

interface Kustomization { apiVersion: string; kind: string; resources: string[] }

function readKustomization(dir: string): Kustomization {
  return load(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
}

/** pool → day1 → kmm stages, plus the given bootstrap charts. */
function stagedApp(bootstrap: boolean): App {
  const app = new App({ outdir: outdir(), yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  const poolStage = new Chart(app, 'pool');
  const day1Stage = new Chart(app, 'day1');
  const kmmStage = new Chart(app, 'kmm');
  day1Stage.addDependency(poolStage);
  kmmStage.addDependency(day1Stage);
  const pool = new KmmMachineConfigPool(poolStage, 'pool', { name: 'oot-nic' });
  new Day1KernelModule(day1Stage, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true })
    .handOverToKmm({ scope: kmmStage });
  if (bootstrap) {
    new ArgoCdApplication(new Chart(app, 'bootstrap-argocd'), 'argo', { name: 'nic', repoUrl: REPO, path: 'clusters/prod/dist' });
    new FluxDelivery(new Chart(app, 'bootstrap-flux'), 'flux', { name: 'nic', url: REPO, path: 'clusters/prod/dist' });
  }
  return app;
}

describe('KustomizeOutput', () => {
  test('every chart folder lists its own manifests; the root lists the stage folders in order, no bootstrap folder', () => {
    const app = stagedApp(true);
    const written = KustomizeOutput.synth(app);
    const folders = readdirSync(app.outdir).filter((entry) => !entry.endsWith('.yaml')).sort();
    expect(folders).toEqual(['0000-pool', '0001-day1', '0002-kmm', '0003-bootstrap-argocd', '0004-bootstrap-flux']);
    expect(written).toEqual([...folders.map((folder) => `${folder}/kustomization.yaml`), 'kustomization.yaml']);
    for (const folder of folders) {
      const manifests = readdirSync(join(app.outdir, folder)).filter((file) => file.endsWith('.k8s.yaml')).sort();
      expect(manifests.length).toBeGreaterThan(0);
      expect(readKustomization(join(app.outdir, folder))).toEqual({
        apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: manifests,
      });
    }
    expect(readKustomization(app.outdir).resources).toEqual(['0000-pool', '0001-day1', '0002-kmm']);
  });

  test('the Flux Kustomizations and the Argo CD Application point at folders that hold a kustomization.yaml', () => {
    const app = stagedApp(true);
    KustomizeOutput.synth(app);
    const flux = readdirSync(join(app.outdir, '0004-bootstrap-flux'))
      .filter((file) => file.startsWith('Kustomization.'))
      .map((file) => load(readFileSync(join(app.outdir, '0004-bootstrap-flux', file), 'utf8')) as { spec: { path: string } });
    expect(flux.map((k) => k.spec.path).sort()).toEqual(['./clusters/prod/dist/0000-pool', './clusters/prod/dist/0001-day1', './clusters/prod/dist/0002-kmm']);
    for (const k of flux) {
      expect(existsSync(join(app.outdir, k.spec.path.replace('./clusters/prod/dist/', ''), 'kustomization.yaml'))).toBe(true);
    }
    const argo = readdirSync(join(app.outdir, '0003-bootstrap-argocd')).find((file) => file.startsWith('Application.'))!;
    const application = load(readFileSync(join(app.outdir, '0003-bootstrap-argocd', argo), 'utf8')) as { spec: { source: { path: string } } };
    expect(application.spec.source.path).toBe('clusters/prod/dist');
  });

  test('without delivery constructs every chart with objects is a stage; an empty chart gets no file', () => {
    const app = new App({ outdir: outdir(), yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
    const pool = new KmmMachineConfigPool(new Chart(app, 'pool'), 'pool', { name: 'oot-nic' });
    new Chart(app, 'empty');
    new Day1KernelModule(new Chart(app, 'day1'), 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    expect(KustomizeOutput.synth(app)).toEqual(['pool/kustomization.yaml', 'day1/kustomization.yaml', 'kustomization.yaml']);
    expect(readKustomization(app.outdir).resources).toEqual(['pool', 'day1']);
  });

  test('write() before app.synth() and another output type are refused with what to do', () => {
    const app = stagedApp(false);
    expect(errorOf(() => KustomizeOutput.write(app)).message).toMatch(/^pool: no manifests in .*0000-pool; call KustomizeOutput.write\(app\) after app.synth\(\)/);
    const perChart = new App({ outdir: outdir() });
    new KmmMachineConfigPool(new Chart(perChart, 'pool'), 'pool', { name: 'oot-nic' });
    expect(errorOf(() => KustomizeOutput.synth(perChart)).message).toMatch(/needs an App with yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE/);
  });
});
