import { ROLE_LABEL } from './topology';
import { checkNonEmptyString, Day1ValidationError, optionalOfType } from '../validation';

/*
 * A MachineConfig object read as the pool merge needs it (name, role, files, units), every field
 * checked: a wrong one is an error that names it. Not part of the public API.
 */

/** The parts of a MachineConfig the merge reads, checked. */
export interface Parsed {
  readonly name: string;
  readonly role?: string;
  readonly files: ParsedFile[];
  readonly units: ParsedUnit[];
}

export interface ParsedFile {
  readonly path: string;
  readonly source?: string;
  readonly compression?: string;
  readonly mode?: number;
  readonly overwrite?: boolean;
}

export interface ParsedUnit {
  readonly name: string;
  readonly enabled?: boolean;
  readonly mask?: boolean;
  readonly contents?: string;
  readonly dropins: ReadonlyArray<{ readonly name: string; readonly contents?: string }>;
}


function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function list(field: string, value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Day1ValidationError(field, value, 'must be a list');
  return value;
}

/** The `i`th MachineConfig of a list, read and checked (the field names in errors are `machineConfigs[i]...`). */
export function parse(machineConfig: unknown, i: number): Parsed {
  const at = `machineConfigs[${i}]`;
  if (!isObject(machineConfig)) throw new Day1ValidationError(at, machineConfig, 'must be a MachineConfig object');
  const metadata = isObject(machineConfig.metadata) ? machineConfig.metadata : {};
  const name = checkNonEmptyString(`${at}.metadata.name`, metadata.name);
  const role = isObject(metadata.labels) && typeof metadata.labels[ROLE_LABEL] === 'string' ? metadata.labels[ROLE_LABEL] as string : undefined;
  const config = isObject(machineConfig.spec) && isObject(machineConfig.spec.config) ? machineConfig.spec.config : {};
  const storage = isObject(config.storage) ? config.storage : {};
  const systemd = isObject(config.systemd) ? config.systemd : {};
  const files = list(`${at}.spec.config.storage.files`, storage.files).map((file, j): ParsedFile => {
    const f = `${at}.spec.config.storage.files[${j}]`;
    if (!isObject(file)) throw new Day1ValidationError(f, file, 'must be an Ignition file object');
    const contents = isObject(file.contents) ? file.contents : {};
    return {
      path: checkNonEmptyString(`${f}.path`, file.path),
      source: optionalOfType<string>(`${f}.contents.source`, contents.source, 'string'),
      compression: optionalOfType<string>(`${f}.contents.compression`, contents.compression, 'string'),
      mode: optionalOfType<number>(`${f}.mode`, file.mode, 'number'),
      overwrite: optionalOfType<boolean>(`${f}.overwrite`, file.overwrite, 'boolean'),
    };
  });
  const units = list(`${at}.spec.config.systemd.units`, systemd.units).map((unit, j): ParsedUnit => {
    const u = `${at}.spec.config.systemd.units[${j}]`;
    if (!isObject(unit)) throw new Day1ValidationError(u, unit, 'must be an Ignition unit object');
    return {
      name: checkNonEmptyString(`${u}.name`, unit.name),
      enabled: optionalOfType<boolean>(`${u}.enabled`, unit.enabled, 'boolean'),
      mask: optionalOfType<boolean>(`${u}.mask`, unit.mask, 'boolean'),
      contents: optionalOfType<string>(`${u}.contents`, unit.contents, 'string'),
      dropins: list(`${u}.dropins`, unit.dropins).map((dropin, k) => {
        const d = `${u}.dropins[${k}]`;
        if (!isObject(dropin)) throw new Day1ValidationError(d, dropin, 'must be an Ignition drop-in object');
        return { name: checkNonEmptyString(`${d}.name`, dropin.name), contents: optionalOfType<string>(`${d}.contents`, dropin.contents, 'string') };
      }),
    };
  });
  return { name, role, files, units };
}
