import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { appHasInvalidProps } from './deferred';

/*
 * After a hand-over the KMM operator rewrites `spec.config` of the Day 1 MachineConfig. An Argo
 * CD Application that syncs it must ignore that field (`ignoreDifferences`) and keep the
 * ignored field out of its syncs (`RespectIgnoreDifferences=true`), or every sync and every
 * self-heal reverts the operator. ArgoCdApplication writes both; this check catches an
 * Application that the user built by hand (or changed) in the same app. Not part of the
 * public API.
 */

/** The API group and kind of a MachineConfig, as Argo CD matches them. */
export const MACHINE_CONFIG_GROUP = 'machineconfiguration.openshift.io';
export const MACHINE_CONFIG_KIND = 'MachineConfig';
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
  return { group: MACHINE_CONFIG_GROUP, kind: MACHINE_CONFIG_KIND, name: machineConfigName, jsonPointers: [OPERATOR_OWNED_POINTER] };
}

/**
 * Whether the entry removes `spec.config` of the named MachineConfig from Argo CD's diff. Argo
 * CD matches group and kind as globs, name and namespace exactly (empty: any), and removes
 * each JSON pointer or jq path it lists; a pointer or path to `spec` covers `spec.config`.
 * `managedFieldsManagers` is not counted: which manager the operator writes as is not part of
 * its contract.
 */
export function ignoresOperatorOwnedField(entry: IgnoreEntry, machineConfigName: string): boolean {
  if (!globMatch(entry.group ?? '', MACHINE_CONFIG_GROUP) || !globMatch(entry.kind ?? '', MACHINE_CONFIG_KIND)) return false;
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

interface HandOverRegistry {
  readonly modules: Array<{ owner: IConstruct; machineConfigName: string }>;
  problems: Map<IConstruct, string[]>;
}

const registries = new WeakMap<IConstruct, HandOverRegistry>();

/**
 * At synthesis, `owner` (a handed-over Day1KernelModule) reports every Argo CD Application of
 * the app that does not ignore `spec.config` of its MachineConfig, or syncs it anyway.
 *
 * The app is searched once per validation pass: cdk8s validates the root first, which computes
 * every module's problems; each module then reports its own.
 */
export function requireArgoCdIgnoreRule(owner: IConstruct, machineConfigName: string): void {
  const root = owner.node.root;
  let registry = registries.get(root);
  if (registry === undefined) {
    const created: HandOverRegistry = { modules: [], problems: new Map() };
    registry = created;
    registries.set(root, created);
    root.node.addValidation({
      validate: () => {
        created.problems = appHasInvalidProps(root) ? new Map() : analyse(root, created.modules);
        return [];
      },
    });
  }
  registry.modules.push({ owner, machineConfigName });
  const current = registry;
  owner.node.addValidation({ validate: () => current.problems.get(owner) ?? [] });
}

function analyse(root: IConstruct, modules: HandOverRegistry['modules']): Map<IConstruct, string[]> {
  const problems = new Map<IConstruct, string[]>();
  const applications = root.node.findAll()
    .filter((c): c is ApiObject => ApiObject.isApiObject(c) && c.kind === 'Application' && c.apiVersion.split('/')[0] === 'argoproj.io');
  for (const application of applications) {
    const json = application.toJson();
    const ignore: IgnoreEntry[] = Array.isArray(json.spec?.ignoreDifferences) ? json.spec.ignoreDifferences : [];
    const syncOptions: string[] = Array.isArray(json.spec?.syncPolicy?.syncOptions) ? json.spec.syncPolicy.syncOptions : [];
    const respects = syncOptions.some((option) => String(option).replace(/\s/g, '') === RESPECT_IGNORE_DIFFERENCES);
    const where = `Argo CD Application "${json.metadata?.name}" (${application.node.path})`;
    for (const { owner, machineConfigName } of modules) {
      const messages: string[] = [];
      if (!ignore.some((entry) => entry !== null && typeof entry === 'object' && ignoresOperatorOwnedField(entry, machineConfigName))) {
        messages.push(`MachineConfig "${machineConfigName}" is handed over to KMM, whose operator rewrites its spec.config, but ${where} `
          + 'does not ignore that field: every sync would revert the operator. Add to its spec.ignoreDifferences '
          + `${JSON.stringify(ignoreEntryFor(machineConfigName))} (ArgoCdApplication computes these entries from the app)`);
      }
      if (!respects) {
        messages.push(`MachineConfig "${machineConfigName}" is handed over to KMM, but ${where} lacks the sync option `
          + `${RESPECT_IGNORE_DIFFERENCES} in spec.syncPolicy.syncOptions: without it a sync writes the ignored spec.config back`);
      }
      if (messages.length > 0) problems.set(owner, [...(problems.get(owner) ?? []), ...messages]);
    }
  }
  return problems;
}
