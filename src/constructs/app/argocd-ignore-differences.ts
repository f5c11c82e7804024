import { Report } from './checks';
import { AppRegistry } from './registry';
import { MACHINE_CONFIG_KIND, MACHINE_CONFIGURATION_GROUP } from '../../machine-config';

/*
 * After a hand-over the KMM operator rewrites `spec.config` of the Day 1 MachineConfig. An Argo
 * CD Application that syncs it must ignore that field (`ignoreDifferences`) and keep the
 * ignored field out of its syncs (`RespectIgnoreDifferences=true`), or every sync and every
 * self-heal reverts the operator. ArgoCdApplication writes both; this check (one of the app's
 * checks, checks.ts) catches an Application that the user built by hand (or changed) in the same
 * app. Not part of the public API.
 */

/** The field the KMM operator owns after a hand-over. */
export const OPERATOR_OWNED_POINTER = '/spec/config';
/** The Application sync option that keeps ignored fields out of a sync. */
export const RESPECT_IGNORE_DIFFERENCES = 'RespectIgnoreDifferences=true';

/** An `ignoreDifferences` entry as Argo CD reads it. */
interface IgnoreEntry {
  readonly group?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly jsonPointers?: string[];
  readonly jqPathExpressions?: string[];
}

/** The `ignoreDifferences` entry for one handed-over MachineConfig. */
export function ignoreEntryFor(machineConfigName: string): { group: string; kind: string; name: string; jsonPointers: string[] } {
  return { group: MACHINE_CONFIGURATION_GROUP, kind: MACHINE_CONFIG_KIND, name: machineConfigName, jsonPointers: [OPERATOR_OWNED_POINTER] };
}

/**
 * Whether the entry removes `spec.config` of the named MachineConfig from Argo CD's diff. Argo
 * CD matches group and kind as globs, name and namespace exactly (empty: any), and removes
 * each JSON pointer or jq path it lists; a pointer or path to `spec` covers `spec.config`.
 * `managedFieldsManagers` is not counted: which manager the operator writes as is not part of
 * its contract.
 */
export function ignoresOperatorOwnedField(entry: IgnoreEntry, machineConfigName: string): boolean {
  if (!globMatch(entry.group ?? '', MACHINE_CONFIGURATION_GROUP) || !globMatch(entry.kind ?? '', MACHINE_CONFIG_KIND)) return false;
  if (entry.name !== undefined && entry.name !== '' && entry.name !== machineConfigName) return false;
  // MachineConfigs are cluster-scoped: an entry for a namespace never matches them.
  if (entry.namespace !== undefined && entry.namespace !== '') return false;
  const pointers = (entry.jsonPointers ?? []).map((pointer) => pointer.replace(/\/+$/, ''));
  const jqPaths = (entry.jqPathExpressions ?? []).map((path) => path.replace(/\s/g, ''));
  return pointers.some((pointer) => pointer === '/spec' || pointer === OPERATOR_OWNED_POINTER)
    || jqPaths.some((path) => path === '.spec' || path === '.spec.config');
}

/** Argo CD's glob: `*` matches any run of characters, `?` one character. */
function globMatch(pattern: string, value: string): boolean {
  const re = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`).test(value);
}

/**
 * Every Argo CD Application of the app that does not ignore `spec.config` of a MachineConfig
 * handed over by `handOverToKmm`, or syncs it anyway, reported on the handed-over module.
 */
export function argoCdIgnoreProblems(registry: AppRegistry, report: Report): void {
  const modules = registry.handOvers.filter((claim) => claim.requireArgoCdIgnoreRule);
  if (modules.length === 0) return;
  for (const application of registry.scan.applications) {
    const json = application.json;
    const ignore: IgnoreEntry[] = Array.isArray(json.spec?.ignoreDifferences) ? json.spec.ignoreDifferences : [];
    const syncOptions: string[] = Array.isArray(json.spec?.syncPolicy?.syncOptions) ? json.spec.syncPolicy.syncOptions : [];
    const respects = syncOptions.some((option) => String(option).replace(/\s/g, '') === RESPECT_IGNORE_DIFFERENCES);
    const where = `Argo CD Application "${json.metadata?.name}" (${application.path})`;
    for (const { owner, machineConfigName } of modules) {
      if (!ignore.some((entry) => entry !== null && typeof entry === 'object' && ignoresOperatorOwnedField(entry, machineConfigName))) {
        report(owner, `MachineConfig "${machineConfigName}" is handed over to KMM, whose operator rewrites its spec.config, but ${where} `
          + 'does not ignore that field: every sync would revert the operator. Add to its spec.ignoreDifferences '
          + `${JSON.stringify(ignoreEntryFor(machineConfigName))} (ArgoCdApplication computes these entries from the app)`);
      }
      if (!respects) {
        report(owner, `MachineConfig "${machineConfigName}" is handed over to KMM, but ${where} lacks the sync option `
          + `${RESPECT_IGNORE_DIFFERENCES} in spec.syncPolicy.syncOptions: without it a sync writes the ignored spec.config back`);
      }
    }
  }
}
