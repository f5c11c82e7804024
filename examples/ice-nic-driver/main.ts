import { App, Chart, YamlOutputType } from 'cdk8s';
import {
  ArgoCdApplication,
  Day1KernelModule,
  FluxDelivery,
  HealthCheckToleration,
  KmmMachineConfigPool,
  KustomizeOutput,
  MaxUnavailable,
  TolerationEffect,
  TolerationOperator,
} from 'cdk8s-kmm-day1';

/*
 * Two out-of-tree NIC drivers loaded at boot on a custom pool of nodes, with a health check
 * each, and the Intel ice driver handed over to the KMM operator.
 *
 * One chart per stage, so that each stage is a folder of its own in dist/:
 *   0000-pool  the MachineConfigPool
 *   0001-day1  the MachineConfigs, and the health checks that turn healthy once every node
 *              of the pool has rebooted into the out-of-tree drivers
 *   0002-kmm   the KMM objects, which must wait for that
 * Argo CD orders the objects by their sync waves alone and could take all three folders as
 * one; Flux has no waves, so it needs one Kustomization per folder with `dependsOn`. The folder
 * numbers come from cdk8s itself: each stage chart depends on the previous one, which makes
 * cdk8s sort the charts and number their folders. (The constructs add no cross-chart
 * dependencies themselves; see docs/benchmarks.md for why.)
 *
 * Two more charts hold the delivery, derived from the three above: what an admin applies once
 * to start Argo CD (0003-bootstrap-argocd) or Flux (0004-bootstrap-flux) on this app. No
 * Application or Kustomization syncs them: dist/kustomization.yaml lists the stages only.
 */

/** The pool's name, also its role and its node label `node-role.kubernetes.io/oot-nic`. */
export const POOL_NAME = 'oot-nic';

/** The repository that holds the synthesized dist/ (CI commits it there after `cdk8s synth`); a placeholder. */
export const REPO_URL = 'https://git.example.com/platform/cluster-config.git';

/** Where dist/ is in that repository. */
export const DIST_PATH = 'examples/ice-nic-driver/dist';

/** The app, and the two ways to deliver it. */
export interface Example {
  readonly app: App;
  readonly argoCd: ArgoCdApplication;
  readonly flux: FluxDelivery;
}

/** Builds the app; `outdir` defaults to `$CDK8S_OUTDIR` (set by `cdk8s synth`), else `dist`. */
export function buildApp(outdir?: string): Example {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  const poolStage = new Chart(app, 'pool');
  const day1Stage = new Chart(app, 'day1');
  const kmmStage = new Chart(app, 'kmm');
  day1Stage.addDependency(poolStage);
  kmmStage.addDependency(day1Stage);

  const pool = new KmmMachineConfigPool(poolStage, 'pool', {
    name: POOL_NAME,
    maxUnavailable: MaxUnavailable.fromNumber(1),
  });
  // Nodes of a dedicated pool are often tainted so that only their own workloads land there;
  // the health checks must run on every one of them, or they prove nothing.
  const poolTaint: HealthCheckToleration = {
    key: `node-role.kubernetes.io/${POOL_NAME}`,
    operator: TolerationOperator.EXISTS,
    effect: TolerationEffect.NO_SCHEDULE,
  };

  const ice = new Day1KernelModule(day1Stage, 'ice', {
    pool,
    kernelModuleImage: 'quay.io/example/ice-driver',
    kernelModuleName: 'ice',
    // The in-tree ice driver of the same name is unloaded first; the health check then
    // requires the out-of-tree build, so a silent fallback to the in-tree driver shows.
    inTreeModulesToRemove: ['ice'],
    firmwareFilesPath: '/opt/lib/firmware/intel/ice',
    healthCheck: true,
    healthCheckTolerations: [poolTaint],
  });

  new Day1KernelModule(day1Stage, 'sfc', {
    pool,
    kernelModuleImage: 'quay.io/example/sfc-driver',
    kernelModuleName: 'sfc',
    inTreeModulesToRemove: ['sfc'],
    // Parameters are why sfc stays a Day 1 module only: the BootModuleConfig the KMM operator
    // would rewrite the MachineConfig from cannot carry them.
    moduleParameters: ['rss_cpus=4'],
    healthCheck: true,
    healthCheckTolerations: [poolTaint],
  });

  ice.handOverToKmm({ scope: kmmStage });

  // The delivery reads what the stages hold at synthesis, so it may also be created before them
  // (only the folder numbers follow the order the charts are created in). The Flux
  // Kustomizations chain the listed stages in that order.
  const argoCd = new ArgoCdApplication(new Chart(app, 'bootstrap-argocd'), 'ice-nic-driver', {
    name: 'ice-nic-driver',
    repoUrl: REPO_URL,
    targetRevision: 'main',
    path: DIST_PATH,
  });
  const flux = new FluxDelivery(new Chart(app, 'bootstrap-flux'), 'ice-nic-driver', {
    name: 'ice-nic-driver',
    url: REPO_URL,
    branch: 'main',
    path: DIST_PATH,
    stages: [poolStage, day1Stage, kmmStage],
  });
  return { app, argoCd, flux };
}

/**
 * Synthesizes the app and writes the kustomization files: one per folder, and the root one that
 * the Argo CD Application syncs, listing the stage folders only.
 *
 * @returns the output folder
 */
export function synth(outdir?: string): string {
  const { app } = buildApp(outdir);
  KustomizeOutput.synth(app);
  return app.outdir;
}

if (require.main === module) {
  synth();
}
