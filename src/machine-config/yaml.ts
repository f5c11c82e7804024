import { existsSync } from 'fs';
import { dirname, join } from 'path';
// On the CLI's path: the one validation module it needs, not the index.
import { yamlReadsAsNumberOrDate } from '../validation/yaml-text';

/*
 * YAML writing for produceMachineConfig and the CLI: js-yaml's single-file build, loaded on
 * first use, with quoting that every YAML reader of a manifest reads back as text, and the
 * splice that keeps the scripts' data URLs out of js-yaml's scanner.
 */

type JsYaml = typeof import('js-yaml');

/**
 * Where the single-file build is: looked up along this module's node_modules paths, as
 * `require` would, which takes a fraction of a millisecond; resolving `js-yaml/package.json`
 * through the package's exports map took two (the CLI's start-up is counted in milliseconds).
 */
function jsYamlBundlePath(): string {
  for (const dir of module.paths) {
    const candidate = join(dir, 'js-yaml', 'dist', 'js-yaml.js');
    if (existsSync(candidate)) return candidate;
  }
  return join(dirname(require.resolve('js-yaml/package.json')), 'dist', 'js-yaml.js');
}

let yamlDump: ((value: unknown) => string) | undefined;

/**
 * js-yaml, loaded on first use from its single-file build: its package entry point pulls in
 * some 25 modules, which is most of the CLI's start-up time. The exports map hides the build,
 * so it is found by path (see jsYamlBundlePath).
 *
 * js-yaml quotes a string only when js-yaml would read it as something else, but YAML 1.1
 * readers (cdk8s's `Include`) and go-yaml (kubectl, oc, Argo CD, Flux) read `1_0` as 10 and
 * `2001-1-1` as a date. An extra implicit type that "resolves" those strings makes js-yaml
 * quote them; it is never used to load anything.
 */
function loadYamlDump(): (value: unknown) => string {
  if (yamlDump === undefined) {
    // Loaded lazily (see above): an import would load it, and its 25 modules, at start-up.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle: JsYaml = require(jsYamlBundlePath());
    const misreadElsewhere = new bundle.Type('tag:cdk8s-kmm-day1,2024:misread-elsewhere', {
      kind: 'scalar',
      resolve: (data: unknown) => typeof data === 'string'
        && (yamlReadsAsNumberOrDate(data, 'yaml-1.1') || yamlReadsAsNumberOrDate(data, 'go-yaml')),
    });
    const schema = bundle.DEFAULT_SCHEMA.extend({ implicit: [misreadElsewhere] });
    yamlDump = (value) => bundle.dump(value, { lineWidth: -1, noRefs: true, quotingType: '"', schema });
  }
  return yamlDump;
}

/** Serialises a manifest as one YAML document with a trailing newline, byte-stable. */
export function toYaml(manifest: object): string {
  return loadYamlDump()(manifest);
}

/** What js-yaml writes unquoted wherever it stands: no indicator first, no ": ", " #", space or quote. */
const PLAIN_DATA_URL_RE = /^data:[a-z]+\/[a-z]+;charset=utf-8;base64,[A-Za-z0-9+/]*={0,2}$/;

/**
 * `manifest` as YAML, where `sources` are data URLs that stand in it as `source: <url>`
 * values. The three script data URLs are 13 kB of base64 that js-yaml scans character by
 * character to choose a quoting style: a third of the CLI's own run time (the code is never
 * optimised in a process that dumps one document) and of `produceMachineConfig`'s in a
 * long-running one. So `withStandIns` dumps short stand-ins instead and the URLs are put in
 * afterwards: a base64 data URL is written unquoted wherever it stands, and lineWidth -1 never
 * folds it, so the text is exactly that of dumping the whole object (test/machine-config's
 * golden file and test/property check it).
 *
 * @param withStandIns the manifest with `standIn(i)` in place of `sources[i]`
 */
export function toYamlWithDataUrls(manifest: object, sources: readonly string[], withStandIns: (standIn: (i: number) => string) => object): string {
  const standIn = (i: number) => `kmm-day1-script-${i}`;
  if (!sources.every((source) => PLAIN_DATA_URL_RE.test(source))) {
    return toYaml(manifest);
  }
  let text = toYaml(withStandIns(standIn));
  for (let i = 0; i < sources.length; i++) {
    const needle = `source: ${standIn(i)}\n`;
    const at = text.indexOf(needle);
    // Anywhere else (a unit cannot hold it, but a later change might) the plain dump is the truth.
    if (at < 0 || text.indexOf(needle, at + 1) >= 0) {
      return toYaml(manifest);
    }
    text = `${text.slice(0, at)}source: ${sources[i]}\n${text.slice(at + needle.length)}`;
  }
  return text;
}
