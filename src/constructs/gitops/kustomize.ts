import { existsSync, readdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App, YamlOutputType } from 'cdk8s';
import { chartOutputs } from './delivery';

/*
 * cdk8s writes manifests; kustomize (and so Argo CD and Flux) wants a kustomization.yaml that
 * lists them. Written from the files cdk8s has just written, so it can neither forget a manifest
 * nor list a stale one; the root one lists exactly the folders the delivery constructs sync.
 */

const KUSTOMIZATION = 'kustomization.yaml';

/**
 * The `kustomization.yaml` files of a cdk8s app synthesized with
 * `YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE`, for Argo CD, Flux and `kubectl apply -k`.
 *
 * - Every chart folder that holds manifests gets one that lists them (the bootstrap folders of
 *   `ArgoCdApplication` and `FluxDelivery` too: `kubectl apply -k dist/<folder>` applies one).
 * - The output folder itself gets one that lists the stage folders, in cdk8s's chart order,
 *   and nothing else: the bootstrap folders stay out of it, because no Application or
 *   Kustomization may sync the objects that start it. This is the folder an `ArgoCdApplication`'s
 *   `path` points at; the Kustomizations of `FluxDelivery` point at the stage folders.
 *
 * Call `KustomizeOutput.synth(app)` instead of `app.synth()`, or `KustomizeOutput.write(app)`
 * right after `app.synth()`.
 */
export class KustomizeOutput {
  /**
   * Synthesizes the app (`app.synth()`, with every validation of the app) and then writes its
   * kustomization files.
   *
   * @returns the kustomization files written, relative to `app.outdir`, the root one last
   */
  public static synth(app: App): string[] {
    app.synth();
    return KustomizeOutput.write(app);
  }

  /**
   * Writes the kustomization files of an app that `app.synth()` has just synthesized into
   * `app.outdir`.
   *
   * @returns the kustomization files written, relative to `app.outdir`, the root one last
   * @throws Error when the app's output type is not `FOLDER_PER_CHART_FILE_PER_RESOURCE`, or
   *   when a stage folder holds no manifest (the app was not synthesized into `app.outdir`)
   */
  public static write(app: App): string[] {
    if (app.yamlOutputType !== YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE) {
      throw new Error('KustomizeOutput needs an App with yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE '
        + '(one folder per chart, which kustomize and the delivery constructs take as the unit of sync)');
    }
    const written: string[] = [];
    const stages: string[] = [];
    for (const output of chartOutputs(app)) {
      const dir = join(app.outdir, output.folder);
      const manifests = existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith(app.outputFileExtension)).sort() : [];
      if (output.objects.length === 0) continue;
      if (manifests.length === 0) {
        throw new Error(`${output.chart.node.path}: no manifests in ${dir}; call KustomizeOutput.write(app) after app.synth(), or KustomizeOutput.synth(app)`);
      }
      writeFileSync(join(dir, KUSTOMIZATION), kustomization(manifests));
      written.push(`${output.folder}/${KUSTOMIZATION}`);
      if (!output.bootstrap) stages.push(output.folder);
    }
    writeFileSync(join(app.outdir, KUSTOMIZATION), kustomization(stages));
    written.push(KUSTOMIZATION);
    return written;
  }

  private constructor() {}
}

function kustomization(resources: string[]): string {
  return [
    '# Written by cdk8s-kmm-day1 KustomizeOutput at synthesis; do not edit.',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    ...resources.length === 0 ? ['resources: []'] : ['resources:', ...resources.map((resource) => `  - ${resource}`)],
    '',
  ].join('\n');
}
