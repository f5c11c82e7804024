import { IConstruct } from 'constructs';
import { analyseApp } from './checks';
import { AppRegistry, Day1Claim } from './registry';
import { MachineConfigManifest } from '../../machine-config';

/*
 * How the constructs of this library tell the app's registry what they emit. Each function
 * makes the construct report its share of the app-wide problems at synthesis. Not part of the
 * public API.
 */

/** The registry of `scope`'s app, with the app-wide checks of this release. */
export function registryOf(scope: IConstruct): AppRegistry {
  const registry = AppRegistry.of(scope);
  registry.addAnalysis(analyseApp);
  return registry;
}

/**
 * `owner` holds `key`, which no other construct of the app may hold; `describe` words the error
 * from the paths of all holders.
 */
export function claimUnique(owner: IConstruct, key: string, describe: (owners: string, count: number) => string): void {
  const registry = registryOf(owner);
  registry.unique.push({ owner, key, describe });
  registry.watch(owner);
}

/** `owner` emits the object `kind` `namespace`/`name`; no other construct of the app may. */
export function claimObjectName(owner: IConstruct, kind: string, namespace: string | undefined, name: string, renameHint: string): void {
  const where = namespace === undefined ? '' : ` in namespace "${namespace}"`;
  claimUnique(owner, `object\0${kind}\0${namespace ?? ''}\0${name}`, (owners, count) =>
    `${kind} "${name}"${where} is defined ${times(count)}, by ${owners}: `
    + `when they are applied, the last one silently replaces the others. ${renameHint}`);
}

/**
 * A pool of the app and the MachineConfig roles it applies to its nodes; `apiObject` is its
 * MachineConfigPool object.
 */
export function registerPool(scope: IConstruct, name: string, roles: string[], apiObject: IConstruct): void {
  const registry = registryOf(scope);
  registry.pools.push({ pool: name, roles: [...roles] });
  registry.own.add(apiObject);
  registry.watch(scope);
}

/**
 * `scope` refers to the cluster's pool `name`, which the app has no object of, applying `roles`
 * (by default its own, and `worker` for a custom pool).
 */
export function registerImportedPool(scope: IConstruct, name: string, roles?: readonly string[]): void {
  const registry = registryOf(scope);
  registry.addImportedPool(name, roles);
  registry.watch(scope);
}

/**
 * A Day 1 MachineConfig of the app (its ApiObject `claim.apiObject`). Returns what the
 * MachineConfig is at synthesis: rendered with every Day 1 MachineConfig that its replace unit
 * orders itself against as peers.
 */
export function registerDay1MachineConfig(claim: Day1Claim): () => MachineConfigManifest {
  const registry = registryOf(claim.owner);
  registry.day1.push(claim);
  registry.own.add(claim.apiObject);
  registry.watch(claim.owner);
  return () => registry.manifestOf(claim);
}

/**
 * `owner` (a BootModuleConfig) hands MachineConfig `machineConfigName` over to the KMM operator;
 * with `requireArgoCdIgnoreRule`, every Argo CD Application of the app must ignore the rewrite.
 */
export function registerHandOver(owner: IConstruct, machineConfigName: string, requireArgoCdIgnoreRule: boolean): void {
  const registry = registryOf(owner);
  registry.handOvers.push({ owner, machineConfigName, requireArgoCdIgnoreRule });
  registry.watch(owner);
}

/**
 * Marks `construct` as a GitOps bootstrap construct: its chart is left out of the delivered
 * stages, and must hold nothing else, which is checked at synthesis.
 */
export function registerBootstrap(construct: IConstruct, prefix: string): void {
  const registry = registryOf(construct);
  registry.bootstrap.push({ construct, prefix });
  registry.watch(construct);
}

/** "twice", "3 times": how often something is claimed, in words. */
export function times(count: number): string {
  return count === 2 ? 'twice' : `${count} times`;
}
