/*
 * Which YAML readers take an unquoted string for a number or a date. A YAML writer quotes a
 * string only when its own dialect would read it as something else, and the dialects
 * disagree: `0o17` is text to YAML 1.1 and 15 to YAML 1.2 and go-yaml; `1_0` and `2001-1-1`
 * are text to YAML 1.2 and 10 and a date to YAML 1.1 and go-yaml. Manifests are written by
 * js-yaml (produceMachineConfig) or by the `yaml` package in YAML 1.1 mode (cdk8s), and read
 * by go-yaml (kubectl, oc, Argo CD, kustomize, Flux) among others.
 */

/** The readers (and writers) that matter for our manifests. */
export type YamlReader = 'yaml-1.1' | 'yaml-1.2' | 'js-yaml' | 'go-yaml';

/** Only these can start a number or a date in any of the readers. */
const NUMBER_START = /^[-+.0-9eE]/;

const READS_AS_NUMBER: Record<YamlReader, (s: string) => boolean> = {
  // The `yaml` package's YAML 1.1 schema, as cdk8s uses it (it also takes `e5` for a float).
  'yaml-1.1': (s) => /^[-+]?(?:0b[0-1_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*(?:\.[0-9_]*)?)$/.test(s)
    || /^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/.test(s)
    || /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*$/.test(s),
  // The YAML 1.2 core schema.
  'yaml-1.2': (s) => /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/.test(s)
    || /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s),
  // js-yaml's default schema: YAML 1.2 core plus 0b binary.
  'js-yaml': (s) => /^[-+]?(?:0b[01]+|0x[0-9a-fA-F]+|0o[0-7]+|[0-9]+)$/.test(s)
    || /^(?:[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?)$/.test(s),
  // go-yaml: a leading digit, sign or "." makes it try strconv.ParseInt(s, 0, 64) and a float
  // pattern after deleting every "_" (overflow, which it reads as text, is ignored: that only
  // errs towards "number").
  'go-yaml': (s) => /^[-+.0-9]/.test(s) && (
    /^[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|[0-9]+)$/.test(s.replace(/_/g, ''))
    || /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s.replace(/_/g, ''))),
};

const READS_AS_DATE: Record<YamlReader, RegExp | undefined> = {
  'yaml-1.1': /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:$|[Tt \t])/,
  'yaml-1.2': undefined,
  'js-yaml': /^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:$|[Tt \t])/,
  'go-yaml': /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:$|[Tt ])/,
};

/** Whether `reader` takes the unquoted scalar `value` for a number or a date. */
export function yamlReadsAsNumberOrDate(value: string, reader: YamlReader): boolean {
  if (!NUMBER_START.test(value)) return false;
  return READS_AS_NUMBER[reader](value) || (READS_AS_DATE[reader]?.test(value) ?? false);
}
