import { Day1Module, KernelRelease } from './inputs';
import type { ManifestLookup } from '../../registry/client';
import { kernelReleaseTag } from '../../validation/kernel-module';

/*
 * What check-images asks and what it prints. One check per module and kernel release (the
 * module image with that release's tag) and one per module for its worker image; identical
 * checks (the same module read twice, e.g. from a MachineConfig and its BootModuleConfig)
 * appear once.
 */

export const EXIT_ALL_PRESENT = 0;
export const EXIT_MISSING = 1;
export const EXIT_UNKNOWN = 3;

/** One image to look up, and for whom. */
export interface ImageCheck {
  readonly module: string;
  readonly machineConfigName: string;
  readonly kind: Day1Module['kind'];
  readonly source: string;
  readonly role: 'module' | 'worker';
  /** The kernel release the tag was made from; none for a worker image. */
  readonly kernelRelease?: string;
  readonly image: string;
}

export interface CheckResult extends ImageCheck {
  readonly lookup: ManifestLookup;
}

/** The checks for modules and releases, in input order, module images before each worker image. */
export function plannedChecks(modules: readonly Day1Module[], releases: readonly KernelRelease[]): ImageCheck[] {
  const checks = new Map<string, ImageCheck>();
  const add = (check: ImageCheck) => {
    const key = JSON.stringify([check.module, check.machineConfigName, check.role, check.image]);
    if (!checks.has(key)) checks.set(key, check);
  };
  for (const module of modules) {
    const common = { module: module.moduleName ?? '-', machineConfigName: module.machineConfigName, kind: module.kind, source: module.source };
    for (const { release } of releases) {
      add({ ...common, role: 'module', kernelRelease: release, image: `${module.moduleImage}:${kernelReleaseTag(release)}` });
    }
    if (module.workerImage !== undefined) add({ ...common, role: 'worker', image: module.workerImage });
  }
  return [...checks.values()];
}

export function exitStatus(results: readonly CheckResult[]): number {
  if (results.some((result) => result.lookup.state === 'missing')) return EXIT_MISSING;
  if (results.some((result) => result.lookup.state === 'unknown')) return EXIT_UNKNOWN;
  return EXIT_ALL_PRESENT;
}

function resultText(lookup: ManifestLookup): string {
  switch (lookup.state) {
    case 'present':
      return lookup.digest;
    case 'missing':
      return 'MISSING';
    default:
      return 'UNKNOWN (see below)';
  }
}

/** The table: one row per check, columns padded, then a summary line. */
export function formatTable(results: readonly CheckResult[]): string {
  const rows = [
    ['MODULE', 'MACHINECONFIG', 'KERNEL', 'IMAGE', 'RESULT'],
    ...results.map((result) => [
      result.role === 'worker' ? `${result.module} (worker)` : result.module,
      result.machineConfigName,
      result.kernelRelease ?? '-',
      result.image,
      resultText(result.lookup),
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const lines = rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  '));
  return `${lines.join('\n')}\n\n${summary(results)}\n`;
}

function summary(results: readonly CheckResult[]): string {
  const count = (state: ManifestLookup['state']) => results.filter((result) => result.lookup.state === state).length;
  return `${results.length} image${results.length === 1 ? '' : 's'}: ${count('present')} present, ${count('missing')} missing, ${count('unknown')} unknown`;
}

/** The machine-readable report (`--output json`). */
export function formatJson(results: readonly CheckResult[], releases: readonly KernelRelease[]): string {
  const report = {
    kernelReleases: releases.map(({ release, tag }) => ({ release, tag })),
    images: results.map((result) => ({
      module: result.module,
      machineConfig: result.machineConfigName,
      kind: result.kind,
      source: result.source,
      role: result.role,
      kernelRelease: result.kernelRelease ?? null,
      image: result.image,
      state: result.lookup.state,
      digest: result.lookup.state === 'present' ? result.lookup.digest : null,
      reason: result.lookup.state === 'unknown' ? result.lookup.reason : null,
    })),
    summary: {
      present: results.filter((result) => result.lookup.state === 'present').length,
      missing: results.filter((result) => result.lookup.state === 'missing').length,
      unknown: results.filter((result) => result.lookup.state === 'unknown').length,
    },
    exitStatus: exitStatus(results),
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Standard error: each missing image and each unanswered one, named, one line each. */
export function problemLines(program: string, results: readonly CheckResult[]): string {
  return results.map((result) => {
    const who = `${result.role === 'worker' ? 'worker image of ' : ''}module ${result.module}, MachineConfig ${result.machineConfigName}`
      + (result.kernelRelease ? `, kernel ${result.kernelRelease}` : '');
    if (result.lookup.state === 'missing') return `${program}: MISSING ${result.image} (${who})\n`;
    if (result.lookup.state === 'unknown') return `${program}: UNKNOWN ${result.image} (${who}): ${result.lookup.reason}\n`;
    return '';
  }).join('');
}
