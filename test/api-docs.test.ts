import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';

/*
 * jsii takes the summary of a doc comment (the first line of every entry in API.md and in
 * each language's docs) from its first paragraph when that has fewer than 20 words, and
 * otherwise up to the first ".", "!", "?" or ";" followed by a space. A ";" in the first
 * sentence, or a "." inside parentheses, cuts the summary in the middle ("(a full
 * reference;"). These tests read what jsii made of every public doc comment.
 */

const ROOT = join(__dirname, '..');
const ASSEMBLY = join(ROOT, '.jsii');
const API_MD = join(ROOT, 'API.md');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []);
}

/** Why a summary reads as cut, if it does. */
export function summaryProblem(summary: string): string | undefined {
  if (summary.includes(';')) return 'has a ";" (jsii cuts the summary there, or keeps a whole paragraph)';
  const count = (re: RegExp) => (summary.match(re) ?? []).length;
  if (count(/\(/g) !== count(/\)/g)) return 'has unbalanced parentheses (cut inside them)';
  if (count(/`/g) % 2 !== 0) return 'has an unclosed code span (cut inside it)';
  return undefined;
}

interface Docs { readonly summary?: string }
interface Callable { readonly name?: string; readonly docs?: Docs; readonly parameters?: Array<{ name: string; docs?: Docs }> }
interface JsiiType {
  readonly docs?: Docs;
  readonly properties?: Array<{ name: string; docs?: Docs }>;
  readonly methods?: Callable[];
  readonly initializer?: Callable;
  readonly members?: Array<{ name: string; docs?: Docs }>;
}

/** Every documented element of the assembly with its summary. */
function summaries(types: Record<string, JsiiType>): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const add = (where: string, docs: Docs | undefined) => {
    if (docs?.summary !== undefined) found.push([where, docs.summary]);
  };
  for (const [fqn, type] of Object.entries(types)) {
    add(fqn, type.docs);
    for (const property of type.properties ?? []) add(`${fqn}.${property.name}`, property.docs);
    for (const member of type.members ?? []) add(`${fqn}.${member.name}`, member.docs);
    const callables: Array<[string, Callable]> = [
      ...(type.initializer === undefined ? [] : [['constructor', type.initializer] as [string, Callable]]),
      ...(type.methods ?? []).map((method): [string, Callable] => [`${method.name}()`, method]),
    ];
    for (const [name, callable] of callables) {
      add(`${fqn}#${name}`, callable.docs);
      for (const parameter of callable.parameters ?? []) add(`${fqn}#${name} ${parameter.name}`, parameter.docs);
    }
  }
  return found;
}

describe('API documentation summaries', () => {
  test('the rule tells cut summaries from whole ones', () => {
    expect(summaryProblem('KMM worker image that loads the module (a full reference;')).toBeDefined();
    expect(summaryProblem('Name of the kernel module (as given to modprobe.')).toBeDefined();
    expect(summaryProblem('`metadata.name` of the DaemonSet.')).toBeUndefined();
    expect(summaryProblem('Loads a module (at boot), before the network starts.')).toBeUndefined();
  });

  test('no summary in the jsii assembly is cut', () => {
    if (!existsSync(ASSEMBLY)) {
      throw new Error('.jsii is not built: run `npx projen compile` before the tests');
    }
    const built = statSync(ASSEMBLY).mtimeMs;
    const newer = sources(join(ROOT, 'src')).filter((file) => statSync(file).mtimeMs > built);
    if (newer.length > 0) {
      throw new Error(`.jsii is older than ${newer.map((f) => f.slice(ROOT.length + 1)).join(', ')}: run \`npx projen compile\``);
    }
    const assembly = JSON.parse(readFileSync(ASSEMBLY, 'utf8')) as { types: Record<string, JsiiType> };
    const found = summaries(assembly.types);
    // The walk really found the summaries (a changed assembly layout must not pass vacuously).
    expect(found.length).toBeGreaterThan(200);
    const cut = found
      .map(([where, summary]) => [where, summary, summaryProblem(summary)])
      .filter(([, , problem]) => problem !== undefined)
      .map(([where, summary, problem]) => `${where}: ${problem}: ${summary}`);
    expect(cut).toEqual(KNOWN_CUT);
  });

  test('no summary in API.md is cut', () => {
    const rows = readFileSync(API_MD, 'utf8').split('\n').filter((line) => line.startsWith('| <code><a href="#'));
    expect(rows.length).toBeGreaterThan(200);
    const cut = rows
      .map((row) => row.replace(/\s*\|\s*$/, '').split(' | ').pop()!)
      .filter((summary) => summaryProblem(summary) !== undefined);
    expect(cut).toEqual(KNOWN_CUT_IN_API_MD);
  });
});

/** Summaries the rule flags on purpose: none. */
const KNOWN_CUT: string[] = [];
const KNOWN_CUT_IN_API_MD: string[] = [];
