import { App, Chart, Yaml } from 'cdk8s';
import { IConstruct } from 'constructs';
import * as fc from 'fast-check';
import { AppValidation, BootModuleConfig, Day1KernelModule, DEFAULT_WORKER_IMAGE, KmmMachineConfigPool, MaxUnavailable } from '../../../src';
import { Day1ValidationError } from '../../../src/validation';
import { dns1123Label, dns1123Subdomain, FIELD_VALUES, fieldValue, labelKey, labelValue, percentage, stringValue } from '../arbitraries';
import { PropertyCase } from '../case';
import { expectEqual, expectIntact, MODULE_FIELDS, ModuleInputs, plainSafe, pooled, validModule, validPoolName } from '../read-back';
import { RUNS } from '../settings';
import { auditedLoadAll } from '../yaml-dialects';

/*
 * The constructs, one input at a time, like produceMachineConfig: rejected with an error that
 * names the input, or present exactly as given in what `cdk8s synth` writes. `cdk8s synth`
 * writes one file per chart, `Yaml.stringify(...chart.toJson())` (a test in
 * properties.test.ts checks this), so each case synthesizes only the charts its input can reach.
 * Accepted names must moreover be valid Kubernetes names and label keys, or the API server
 * would reject the object on apply.
 */

// cdk8s only writes to outdir in app.synth(), which these cases never call.
const OUTDIR = 'kmm-day1-property-never-written';

/** The file `cdk8s synth` writes for `chart`, loaded and audited for YAML dialect traps. */
function synthesized(chart: Chart): any[] {
  return auditedLoadAll(Yaml.stringify(...chart.toJson())) as any[];
}

function ofKind(docs: any[], kind: string): any {
  const found = docs.filter((doc) => doc.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

type Outcome = 'accepted' | 'rejected';

export const CONSTRUCT_CASES: PropertyCase[] = [];

/** A case for every generated value of one input; `body` returns 'rejected' after checking the error. */
function fieldProperty<T>(subject: string, field: string, claim: string, values: fc.Arbitrary<T>, body: (value: T) => Outcome): void {
  CONSTRUCT_CASES.push({
    name: `${subject} ${field}: ${claim} (${RUNS} runs)`,
    runs: RUNS,
    bothOutcomes: true,
    property: (stats) => fc.property(values, (value) => {
      stats[body(value)]++;
    }),
  });
}

/**
 * The error is ours, and each of its problems (one message line each) is at the construct's
 * path and names the input: only the fuzzed input is invalid, so nothing else may be reported.
 *
 * @param fieldPrefix the prefix of the fields of a method's options (`handOverToKmm.`)
 */
/**
 * Constructs do not throw on invalid props: they record them, and the app's synthesis fails on
 * them (test/constructs checks that cdk8s's error lists each). Throws what the app recorded, as
 * one Day1ValidationError, the way a construction error used to be.
 */
function rejectInvalid(scope: IConstruct): void {
  const problems = AppValidation.problemsOf(scope);
  if (problems.length > 0) throw Day1ValidationError.of(problems);
}

function expectNames(error: unknown, path: string, input: string, fieldPrefix = ''): Outcome {
  if (!(error instanceof Day1ValidationError)) {
    throw new Error(`expected a Day1ValidationError naming ${input}, got ${error instanceof Error ? error.stack : String(error)}`);
  }
  const lines = error.message.split('\n');
  const mentions = new RegExp(`\\b${input.replace(/\./g, '\\.')}\\b`);
  error.problems.forEach((problem, i) => {
    const field = problem.field.startsWith(fieldPrefix) ? problem.field.slice(fieldPrefix.length) : undefined;
    const exact = field === input || field?.startsWith(`${input}[`) || field?.startsWith(`${input}.`);
    // Derived values (a default name built from the input) name the derived field, and the input in the rule;
    // a rule that relates two inputs (baseRole must differ from name) names both.
    const related = field !== undefined && mentions.test(problem.rule);
    if (problem.path !== path || !(exact || related) || lines[i] !== `${path}: Invalid ${problem.field} ${problem.value}: ${problem.rule}`) {
      throw new Error(`the error does not name ${path}: ${fieldPrefix}${input}: ${error.message}`);
    }
  });
  if (lines.length !== error.problems.length) throw new Error(`one line per problem expected: ${error.message}`);
  return 'rejected';
}

// ---------------------------------------------------------------------------------------------
// Kubernetes grammars, for names that the API server checks when the object is applied.

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function isSubdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  return (prefix === undefined || isSubdomain(prefix)) && name.length <= 63 && LABEL_NAME.test(name);
}

function expectKubernetesName(what: string, value: string, valid: (v: string) => boolean): void {
  if (!valid(value)) {
    throw new Error(`${what}: ${JSON.stringify(value)} was accepted but the API server would reject it`);
  }
}

// ---------------------------------------------------------------------------------------------

const validSelector = pooled(fc.dictionary(labelKey.filter(plainSafe), fc.oneof(fc.constant(''), labelValue.filter(plainSafe)), { minKeys: 1, maxKeys: 3 }), 200);
const fuzzedSelector: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: validSelector, weight: 4 },
  {
    arbitrary: fc.dictionary(
      fc.oneof(labelKey, stringValue(FIELD_VALUES.labelKey)),
      fc.oneof(fc.constant(''), fieldValue(FIELD_VALUES.labelValue)),
      { minKeys: 1, maxKeys: 4 },
    ),
    weight: 8,
  },
  { arbitrary: fc.constantFrom(null, [], {}, 'node-role.kubernetes.io/worker', 42), weight: 1 },
);

function expectSelector(actual: unknown, given: Record<string, string>): void {
  expectEqual(actual, { ...given });
  for (const key of Object.keys(given)) expectKubernetesName('nodeSelector key', key, isLabelKey);
}

// A module name without letters or digits ("_") gives no default MachineConfig name: a context needs one.
const moduleSettings = validModule
  .map(({ machineConfigPoolRef: _role, machineConfigName: _name, ...settings }) => settings)
  .filter((settings) => /[A-Za-z0-9]/.test(settings.kernelModuleName));

function day1KernelModuleCases(): void {
  const prefix = 'c/m';
  const context = fc.record({
    settings: moduleSettings,
    pool: fc.oneof(fc.constant('worker'), validPoolName),
    machineConfigName: fc.option(pooled(dns1123Subdomain.filter(plainSafe), 200), { nil: undefined }),
  });
  const fields: Array<{ name: string; value: fc.Arbitrary<unknown> }> = [
    ...MODULE_FIELDS.filter((f) => f.name !== 'machineConfigPoolRef' && f.name !== 'machineConfigName'),
    { name: 'machineConfigName', value: fieldValue(FIELD_VALUES.dns1123Subdomain, true) },
    // The name of the pool, given to KmmMachineConfigPool.fromPoolName (which names it `name`).
    { name: 'pool', value: fieldValue(FIELD_VALUES.dns1123Label) },
  ];

  for (const field of fields) {
    fieldProperty('Day1KernelModule', field.name, 'rejected naming it, or intact in the synthesized MachineConfig',
      fc.tuple(context, field.value), ([ctx, value]) => {
        const poolName = field.name === 'pool' ? value as string : ctx.pool;
        const props: any = { ...ctx.settings, machineConfigName: ctx.machineConfigName, ...(field.name === 'pool' ? {} : { [field.name]: value }) };
        const app = new App({ outdir: OUTDIR });
        const chart = new Chart(app, 'c');
        let module: Day1KernelModule;
        try {
          const pool = KmmMachineConfigPool.fromPoolName(chart, 'pool', poolName);
          module = new Day1KernelModule(chart, 'm', { ...props, pool });
          rejectInvalid(chart);
        } catch (error) {
          return field.name === 'pool' ? expectNames(error, 'c/pool', 'name') : expectNames(error, prefix, field.name);
        }
        const explicitName = typeof props.machineConfigName === 'string' && props.machineConfigName !== '' ? props.machineConfigName : undefined;
        const name = explicitName
          ?? `99-${poolName}-kmm-day1-${props.kernelModuleName.toLowerCase().replace(/_/g, '-').replace(/^-+|-+$/g, '')}`;
        const inputs: ModuleInputs = { ...props, machineConfigName: name, machineConfigPoolRef: poolName };
        expectIntact(inputs, ofKind(synthesized(chart), 'MachineConfig'));
        expectEqual([module.machineConfigName, module.poolName, module.kernelModuleName, module.kernelModuleImage],
          [name, poolName, props.kernelModuleName, props.kernelModuleImage]);
        return 'accepted';
      });
  }
}

function poolCases(): void {
  const prefix = 'pools/p';
  const context = fc.record({
    name: validPoolName,
    baseRole: fc.option(validPoolName, { nil: undefined }),
    nodeSelector: fc.option(validSelector, { nil: undefined }),
    maxUnavailable: fc.option(fc.oneof(fc.integer({ min: 1, max: 50 }), percentage), { nil: undefined }),
  }).filter((props) => props.baseRole !== props.name);

  function maxUnavailable(given: number | string | undefined): MaxUnavailable | undefined {
    if (given === undefined) return undefined;
    return typeof given === 'number' ? MaxUnavailable.fromNumber(given) : MaxUnavailable.fromString(given);
  }

  interface Built { pool: KmmMachineConfigPool; pools: Chart; modules?: Chart }

  /** A pool (and, with `withModule`, a module on it); throws what the constructs throw. */
  function build(props: any, withModule: boolean): Built {
    const app = new App({ outdir: OUTDIR });
    const pools = new Chart(app, 'pools');
    const pool = new KmmMachineConfigPool(pools, 'p', props);
    if (!withModule) {
      rejectInvalid(app);
      return { pool, pools };
    }
    const modules = new Chart(app, 'modules');
    new Day1KernelModule(modules, 'm', { pool, kernelModuleImage: 'quay.io/a/ice', kernelModuleName: 'ice' });
    rejectInvalid(app);
    return { pool, pools, modules };
  }

  function expectPool(docs: any[], props: any): void {
    const spec = ofKind(docs, 'MachineConfigPool').spec;
    expectEqual(ofKind(docs, 'MachineConfigPool').metadata.name, props.name);
    expectEqual(spec.machineConfigSelector.matchExpressions, [
      { key: 'machineconfiguration.openshift.io/role', operator: 'In', values: [props.baseRole ?? 'worker', props.name] },
    ]);
    expectSelector(spec.nodeSelector.matchLabels, props.nodeSelector ?? { [`node-role.kubernetes.io/${props.name}`]: '' });
    expectEqual(spec.maxUnavailable, props.maxUnavailable ?? 1);
  }

  fieldProperty('KmmMachineConfigPool', 'name', 'rejected naming it, or intact in the pool and in the role of its MachineConfigs',
    fc.tuple(context, fieldValue(FIELD_VALUES.dns1123Label)), ([ctx, name]) => {
      const props = { ...ctx, name, maxUnavailable: maxUnavailable(ctx.maxUnavailable) };
      let built: Built;
      try {
        built = build(props, true);
      } catch (error) {
        return expectNames(error, prefix, 'name');
      }
      expectPool(synthesized(built.pools), { ...ctx, name });
      expectEqual(ofKind(synthesized(built.modules!), 'MachineConfig').metadata.labels['machineconfiguration.openshift.io/role'], name);
      expectEqual(built.pool.name, name);
      return 'accepted';
    });

  fieldProperty('KmmMachineConfigPool', 'baseRole', 'rejected naming it, or intact in the machineConfigSelector',
    fc.tuple(context, fieldValue(FIELD_VALUES.dns1123Label, true)), ([ctx, baseRole]) => {
      const props = { ...ctx, baseRole, maxUnavailable: maxUnavailable(ctx.maxUnavailable) };
      let built: Built;
      try {
        built = build(props, false);
      } catch (error) {
        return expectNames(error, prefix, 'baseRole');
      }
      expectPool(synthesized(built.pools), { ...ctx, baseRole });
      return 'accepted';
    });

  // Keys and values fuzzed together, then values alone under valid keys: a fuzzed key is
  // rejected so often that the values behind it would rarely reach the accepted path.
  const fuzzedValues = fc.dictionary(labelKey.filter(plainSafe), fc.oneof(fc.constant(''), fieldValue(FIELD_VALUES.labelValue)), { minKeys: 1, maxKeys: 3 });
  for (const [field, claim, selectors] of [
    ['nodeSelector', 'rejected naming it, or intact in spec.nodeSelector, with valid label keys', fuzzedSelector],
    ['nodeSelector values', 'rejected naming the entry, or intact in spec.nodeSelector', fuzzedValues],
  ] as const) {
    fieldProperty('KmmMachineConfigPool', field, claim, fc.tuple(context, selectors), ([ctx, nodeSelector]) => {
      const props = { ...ctx, nodeSelector, maxUnavailable: maxUnavailable(ctx.maxUnavailable) };
      let built: Built;
      try {
        built = build(props, false);
      } catch (error) {
        return expectNames(error, prefix, 'nodeSelector');
      }
      expectPool(synthesized(built.pools), { ...ctx, nodeSelector });
      return 'accepted';
    });
  }

  const mostlyNumbers = fc.oneof(
    fc.integer({ min: -3, max: 300 }),
    fc.constantFrom(0, -0, 1.5, 2 ** 53 - 1, 2 ** 53, Number.MAX_VALUE, Infinity, NaN),
    fc.double(),
  );
  const maxUnavailableInput = fc.oneof(
    mostlyNumbers.map((amount) => ({ via: 'fromNumber' as const, amount })),
    fc.oneof(percentage, stringValue(FIELD_VALUES.percentage)).map((amount) => ({ via: 'fromString' as const, amount })),
    // Another copy of the library (or a jsii language) passes a look-alike, not an instance.
    fc.record({ amount: fc.oneof(mostlyNumbers, fc.constant('5' as unknown)), isPercentage: fc.oneof(fc.boolean(), fc.constant('yes' as unknown)) })
      .map((duck) => ({ via: 'duck' as const, amount: duck })),
  );

  fieldProperty('KmmMachineConfigPool', 'maxUnavailable', 'rejected naming it, or intact in spec.maxUnavailable',
    fc.tuple(context, maxUnavailableInput), ([ctx, input]) => {
      let expected: number | string;
      let built: Built;
      try {
        const value = input.via === 'fromNumber' ? MaxUnavailable.fromNumber(input.amount)
          : input.via === 'fromString' ? MaxUnavailable.fromString(input.amount)
            : input.amount as unknown as MaxUnavailable;
        built = build({ ...ctx, maxUnavailable: value }, false);
        expected = value.isPercentage ? `${value.amount}%` : value.amount;
      } catch (error) {
        if (error instanceof Day1ValidationError && error.problems.every((p) => p.field === 'maxUnavailable' && (p.path ?? prefix) === prefix)) {
          return 'rejected';
        }
        throw error;
      }
      const synthesizedValue = ofKind(synthesized(built.pools), 'MachineConfigPool').spec.maxUnavailable;
      expectEqual(synthesizedValue, expected);
      // What the Machine Config Operator reads: a positive node count or an integer percentage up to 100.
      expectEqual(typeof synthesizedValue === 'number'
        ? Number.isSafeInteger(synthesizedValue) && synthesizedValue >= 1
        : /^(?:[1-9][0-9]?|100)%$/.test(synthesizedValue), true);
      return 'accepted';
    });
}

function bootModuleConfigCases(): void {
  const prefix = 'c/b';
  const context = fc.record({
    machineConfigName: pooled(dns1123Subdomain.filter(plainSafe), 200),
    machineConfigPoolName: fc.oneof(fc.constant('worker'), validPoolName),
    settings: moduleSettings.map(({ moduleParameters: _p, ...rest }) => rest),
    metadataName: fc.option(pooled(dns1123Subdomain.filter(plainSafe), 200), { nil: undefined }),
  });
  const fields: Array<{ name: string; value: fc.Arbitrary<unknown> }> = [
    { name: 'machineConfigName', value: fieldValue(FIELD_VALUES.dns1123Subdomain) },
    { name: 'machineConfigPoolName', value: fieldValue(FIELD_VALUES.dns1123Label) },
    ...MODULE_FIELDS.filter((f) => ['kernelModuleImage', 'kernelModuleName', 'inTreeModulesToRemove', 'firmwareFilesPath', 'workerImage'].includes(f.name)),
    { name: 'metadata.name', value: fc.oneof(stringValue(FIELD_VALUES.dns1123Subdomain), fc.constant(undefined)) },
  ];

  for (const field of fields) {
    fieldProperty('BootModuleConfig', field.name, 'rejected naming it, or intact in the synthesized BootModuleConfig',
      fc.tuple(context, field.value), ([ctx, value]) => {
        const props: any = {
          ...ctx.settings,
          machineConfigName: ctx.machineConfigName,
          machineConfigPoolName: ctx.machineConfigPoolName,
          metadata: ctx.metadataName === undefined ? undefined : { name: ctx.metadataName },
        };
        if (field.name === 'metadata.name') props.metadata = value === undefined ? undefined : { name: value };
        else props[field.name] = value;
        const app = new App({ outdir: OUTDIR });
        const chart = new Chart(app, 'c');
        try {
          new BootModuleConfig(chart, 'b', props);
          rejectInvalid(chart);
        } catch (error) {
          return expectNames(error, prefix, field.name);
        }
        const bmc = ofKind(synthesized(chart), 'BootModuleConfig');
        const set = (v: unknown) => v !== undefined && v !== null && v !== '';
        const list = (v: unknown) => (Array.isArray(v) && v.length > 0 ? v : undefined);
        expectEqual(bmc.spec, {
          machineConfigName: props.machineConfigName,
          machineConfigPoolName: props.machineConfigPoolName,
          kernelModuleImage: props.kernelModuleImage,
          kernelModuleName: props.kernelModuleName,
          ...(list(props.inTreeModulesToRemove) ? { inTreeModulesToRemove: props.inTreeModulesToRemove } : {}),
          ...(set(props.firmwareFilesPath) ? { firmwareFilesPath: props.firmwareFilesPath } : {}),
          // Always written: the operator would otherwise put its own worker image in the MachineConfig.
          workerImage: set(props.workerImage) ? props.workerImage : DEFAULT_WORKER_IMAGE,
        });
        const name = props.metadata?.name ?? props.machineConfigName;
        expectEqual([bmc.metadata.name, bmc.metadata.namespace], [name, 'openshift-machine-config-operator']);
        expectKubernetesName('metadata.name', name, isSubdomain);
        return 'accepted';
      });
  }
}

function handOverCases(): void {
  const prefix = 'modules/m';
  const moduleName = (options: { name?: string }, kernelModuleName: string) =>
    options.name ?? kernelModuleName.toLowerCase().replace(/_/g, '-').replace(/^-+|-+$/g, '');
  // A context KMM's webhook accepts (name + namespace at most 41 characters), so that only the
  // field under test can be what is rejected; the field itself may break the rule, and then the
  // error names the Module name and the namespace.
  const context = fc.record({
    settings: moduleSettings.map(({ moduleParameters: _p, ...rest }) => rest),
    pool: fc.oneof(fc.constant('worker'), validPoolName),
    options: fc.record({
      namespace: fc.option(pooled(dns1123Label.filter(plainSafe), 200), { nil: undefined }),
      name: fc.option(pooled(dns1123Label.filter(plainSafe), 200), { nil: undefined }),
      imageRepoSecret: fc.option(pooled(dns1123Subdomain.filter(plainSafe), 200), { nil: undefined }),
      bootModuleConfigName: fc.option(pooled(dns1123Subdomain.filter(plainSafe), 200), { nil: undefined }),
      nodeSelector: validSelector,
    }),
  }).filter((ctx) => moduleName(ctx.options, ctx.settings.kernelModuleName).length + (ctx.options.namespace ?? 'openshift-kmm').length <= 41);
  const fields: Array<{ name: string; value: fc.Arbitrary<unknown> }> = [
    { name: 'namespace', value: fieldValue(FIELD_VALUES.dns1123Label, true) },
    { name: 'name', value: fieldValue(FIELD_VALUES.dns1123Label, true) },
    { name: 'imageRepoSecret', value: fieldValue(FIELD_VALUES.dns1123Subdomain, true) },
    { name: 'bootModuleConfigName', value: fieldValue(FIELD_VALUES.dns1123Subdomain, true) },
    { name: 'nodeSelector', value: fuzzedSelector },
  ];

  for (const field of fields) {
    fieldProperty(field.name === 'nodeSelector' ? 'KmmMachineConfigPool.fromPoolName (with handOverToKmm)' : 'handOverToKmm', field.name, 'rejected naming it, or intact in the synthesized Module and BootModuleConfig',
      fc.tuple(context, field.value), ([ctx, value]) => {
        const app = new App({ outdir: OUTDIR });
        const modules = new Chart(app, 'modules');
        const kmm = new Chart(app, 'kmm');
        // The node selector is the pool's, given to KmmMachineConfigPool.fromPoolName.
        const { nodeSelector: poolSelector, ...given } = ctx.options;
        const selector = field.name === 'nodeSelector' ? value : poolSelector;
        let module: Day1KernelModule;
        try {
          const pool = KmmMachineConfigPool.fromPoolName(modules, 'pool', ctx.pool, selector as Record<string, string>);
          module = new Day1KernelModule(modules, 'm', { ...ctx.settings, pool });
          rejectInvalid(modules);
        } catch (error) {
          return expectNames(error, 'modules/pool', 'nodeSelector');
        }
        const options: any = { ...given, ...(field.name === 'nodeSelector' ? {} : { [field.name]: value }), scope: kmm };
        try {
          module.handOverToKmm(options);
          rejectInvalid(modules);
        } catch (error) {
          return expectNames(error, prefix, field.name, 'handOverToKmm.');
        }
        const docs = synthesized(kmm);
        const kmmModule = ofKind(docs, 'Module');
        const bmc = ofKind(docs, 'BootModuleConfig');
        const set = (v: unknown): v is string => typeof v === 'string' && v !== '';
        expectEqual(kmmModule.metadata.namespace, options.namespace ?? 'openshift-kmm');
        expectEqual(kmmModule.metadata.name, moduleName(options, ctx.settings.kernelModuleName));
        expectEqual(kmmModule.metadata.name.length + kmmModule.metadata.namespace.length <= 41, true);
        expectEqual(kmmModule.spec.imageRepoSecret, set(options.imageRepoSecret) ? { name: options.imageRepoSecret } : undefined);
        expectSelector(kmmModule.spec.selector, selector as Record<string, string>);
        expectEqual(bmc.metadata.name, set(options.bootModuleConfigName) ? options.bootModuleConfigName : module.machineConfigName);
        expectEqual(bmc.spec.machineConfigName, module.machineConfigName);
        expectKubernetesName('bootModuleConfigName', bmc.metadata.name, isSubdomain);
        if (set(options.imageRepoSecret)) expectKubernetesName('imageRepoSecret', options.imageRepoSecret, isSubdomain);
        return 'accepted';
      });
  }
}

day1KernelModuleCases();
poolCases();
bootModuleConfigCases();
handOverCases();
