import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { isDay1MachineConfig, MACHINE_CONFIG_KIND, MACHINE_CONFIGURATION_GROUP, NodeSet, ROLE_LABEL, rolesOfSelector } from '../../machine-config';

/*
 * The objects of an app that the checks read besides this library's constructs: MachineConfigs
 * and MachineConfigPools a user added (ApiObject, Include), BootModuleConfigs, and every Argo CD
 * Application. One walk of the tree, found by apiVersion and kind, never by class, so that the
 * objects of another copy of this package or of any library count the same. Not part of the
 * public API.
 */

/** A MachineConfig of the app that no construct of this library made. */
export interface PlainMachineConfig {
  readonly path: string;
  readonly name: string;
  readonly role: string;
  readonly json: any;
  /** Whether it is a Day 1 MachineConfig (of any release of this library, or of produceMachineConfig). */
  readonly day1: boolean;
}

/** An Argo CD Application of the app, as synthesized. */
export interface ApplicationObject {
  readonly path: string;
  readonly json: any;
}

/** What one walk of the tree found. */
export interface AppScan {
  readonly machineConfigs: readonly PlainMachineConfig[];
  /** MachineConfigPool objects no construct of this library made, with the roles they select. */
  readonly pools: readonly NodeSet[];
  /** `spec.machineConfigName` of every BootModuleConfig object (ours included). */
  readonly bootModuleConfigTargets: readonly string[];
  readonly applications: readonly ApplicationObject[];
}

const KMM_GROUP = 'kmm.sigs.x-k8s.io';

/** Walks the app under `root` once; `own` are the ApiObjects whose content the registry knows already. */
export function scanApp(root: IConstruct, own: ReadonlySet<IConstruct>): AppScan {
  const machineConfigs: PlainMachineConfig[] = [];
  const pools: NodeSet[] = [];
  const bootModuleConfigTargets: string[] = [];
  const applications: ApplicationObject[] = [];
  for (const construct of root.node.findAll()) {
    if (!ApiObject.isApiObject(construct)) continue;
    const group = construct.apiVersion.split('/')[0];
    if (group === 'argoproj.io' && construct.kind === 'Application') {
      applications.push({ path: construct.node.path, json: construct.toJson() });
    } else if (group === KMM_GROUP && construct.kind === 'BootModuleConfig') {
      const target = construct.toJson()?.spec?.machineConfigName;
      if (typeof target === 'string') bootModuleConfigTargets.push(target);
    } else if (group === MACHINE_CONFIGURATION_GROUP && !own.has(construct)) {
      if (construct.kind === MACHINE_CONFIG_KIND) {
        const json = construct.toJson();
        const role = json?.metadata?.labels?.[ROLE_LABEL];
        if (typeof role !== 'string') continue;
        machineConfigs.push({ path: construct.node.path, name: construct.name, role, json, day1: isDay1MachineConfig(json) });
      } else if (construct.kind === 'MachineConfigPool') {
        const roles = rolesOfSelector(construct.toJson()?.spec?.machineConfigSelector);
        if (roles.length > 0) pools.push({ pool: construct.name, roles });
      }
    }
  }
  return { machineConfigs, pools, bootModuleConfigTargets, applications };
}
