import { CONSTRUCT_CASES } from './constructs';
import { DATA_URL_CASES } from './data-url';
import { NODE_CASES } from './node';
import { PRODUCE_CASES } from './produce';
import { SYSTEMD_CASES } from './systemd-quote';
import { PropertyCase } from '../case';

/** Every property of the suite, by name; the worker threads look them up here. */
export const CASES = { produce: PRODUCE_CASES, constructs: CONSTRUCT_CASES, systemd: SYSTEMD_CASES, node: NODE_CASES, dataUrl: DATA_URL_CASES };

const byName = new Map<string, PropertyCase>(Object.values(CASES).flat().map((c) => [c.name, c]));

export function caseNamed(name: string): PropertyCase {
  const found = byName.get(name);
  if (found === undefined) throw new Error(`no property named ${JSON.stringify(name)}`);
  return found;
}
