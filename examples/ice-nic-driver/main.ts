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

/** The steps of `buildApp` after the charts and the pool, which may run in any order (the hand-over after ice). */
export type ExampleStep = 'ice' | 'sfc' | 'handOver' | 'argoCd' | 'flux';

/** The order this file reads in. Any other order gives the same output, byte for byte (tested). */
export const CONSTRUCTION_ORDER: readonly ExampleStep[] = ['ice', 'sfc', 'handOver', 'argoCd', 'flux'];

/**
 * Builds the app; `outdir` defaults to `$CDK8S_OUTDIR` (set by `cdk8s synth`), else `dist`.
 *
 * @param order the order to create the modules, the hand-over and the delivery in
 */
export function buildApp(outdir?: string, order: readonly ExampleStep[] = CONSTRUCTION_ORDER): Example {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  const poolStage = new Chart(app, 'pool');
  const day1Stage = new Chart(app, 'day1');
  const kmmStage = new Chart(app, 'kmm');
  day1Stage.addDependency(poolStage);
  kmmStage.addDependency(day1Stage);
  // Two more charts for the delivery (see the top of the file).
  const argoCdBootstrap = new Chart(app, 'bootstrap-argocd');
  const fluxBootstrap = new Chart(app, 'bootstrap-flux');

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

  let ice: Day1KernelModule | undefined;
  let argoCd: ArgoCdApplication | undefined;
  let flux: FluxDelivery | undefined;
  const steps: Record<ExampleStep, () => void> = {
    ice: () => {
      ice = new Day1KernelModule(day1Stage, 'ice', {
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
    },
    sfc: () => {
      new Day1KernelModule(day1Stage, 'sfc', {
        pool,
        kernelModuleImage: 'quay.io/example/sfc-driver',
        kernelModuleName: 'sfc',
        inTreeModulesToRemove: ['sfc'],
        // Parameters are why sfc stays a Day 1 module only: the BootModuleConfig the KMM operator
        // would rewrite the MachineConfig from cannot carry them. Its MachineConfig name sorts
        // after ice's, so once the operator has rewritten ice's, this library's scripts still
        // come last in the pool and pass the parameters (the synthesis refuses the other order).
        moduleParameters: ['rss_cpus=4'],
        healthCheck: true,
        healthCheckTolerations: [poolTaint],
      });
    },
    handOver: () => {
      if (ice === undefined) throw new Error('the hand-over step needs the ice step before it');
      ice.handOverToKmm({ scope: kmmStage });
    },
    // The delivery reads what the stages hold at synthesis, so it may also be created before them.
    // The Flux Kustomizations chain the listed stages in that order.
    argoCd: () => {
      argoCd = new ArgoCdApplication(argoCdBootstrap, 'ice-nic-driver', {
        name: 'ice-nic-driver',
        repoUrl: REPO_URL,
        targetRevision: 'main',
        path: DIST_PATH,
      });
    },
    flux: () => {
      flux = new FluxDelivery(fluxBootstrap, 'ice-nic-driver', {
        name: 'ice-nic-driver',
        url: REPO_URL,
        branch: 'main',
        path: DIST_PATH,
        stages: [poolStage, day1Stage, kmmStage],
      });
    },
  };
  for (const step of order) steps[step]();
  if (argoCd === undefined || flux === undefined) throw new Error(`the order ${JSON.stringify(order)} lacks the argoCd or flux step`);
  return { app, argoCd, flux };
}

/**
 * Synthesizes the app and writes the kustomization files: one per folder, and the root one that
 * the Argo CD Application syncs, listing the stage folders only.
 *
 * @param order see buildApp
 * @returns the output folder
 */
export function synth(outdir?: string, order?: readonly ExampleStep[]): string {
  const { app } = buildApp(outdir, order);
  KustomizeOutput.synth(app);
  return app.outdir;
}

if (require.main === module) {
  synth();
}
