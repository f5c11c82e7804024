import { readFileSync } from 'fs';
import { cdk8s, javascript, JsonFile, Version } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';

const CDK8S_VERSION = '2.70.98';
/** The repository; the README's links and the changelog's commit links point into it. */
const REPOSITORY_URL = 'https://example.invalid/cdk8s-kmm-day1.git';
const REPOSITORY_WEB = REPOSITORY_URL.replace(/\.git$/, '');
// The CRDs the library targets, vendored unchanged from upstream (sources in crds/README.md).
const CRD_DIR = 'crds';

// Every jest config of the project (main, systemd tier, quick start) fails under CI=true when a
// test was skipped: a green CI run means every test ran.
const NO_SKIPPED_TESTS_REPORTER = '<rootDir>/test/util/no-skipped-tests-reporter.js';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-kmm-day1',
  description:
    'cdk8s constructs and a day1-utility compatible CLI that load out-of-tree kernel modules at boot on OpenShift nodes and hand them over to Kernel Module Management (KMM).',
  keywords: ['cdk8s', 'openshift', 'kmm', 'kernel-module', 'machineconfig', 'gitops'],
  author: 'cdk8s-kmm-day1 maintainers',
  authorAddress: 'maintainers@example.invalid',
  repositoryUrl: REPOSITORY_URL,
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  github: false,
  release: false,
  minNodeVersion: '20.0.0',

  cdk8sVersion: CDK8S_VERSION,
  constructsVersion: '10.4.2',
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.0',

  // No cdk8s-plus: the constructs emit plain ApiObjects and take types of their own, so an app
  // may use any cdk8s-plus major, or none.
  // js-yaml is not a jsii module, so it ships inside our tarball instead of as a dependency.
  bundledDeps: ['js-yaml@^4.1.0'],
  devDeps: [
    '@types/js-yaml@^4.0.9',
    'cdk8s-cli@^2.207.0',
    'fast-check@^4.3.0',
  ],
  bin: { 'day1-utility': 'lib/cli/day1-utility.js' },

  jestOptions: {
    // A changed golden file must fail, locally and in CI; an empty suite must fail too.
    updateSnapshot: UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      coveragePathIgnorePatterns: ['/node_modules/', '/src/imports/', '/test/'],
      testTimeout: 60_000,
      // Examples import the package by name, as users do; in-process tests run them against
      // src/ (jest would otherwise resolve the name to a possibly stale lib/). The subprocess
      // test in test/examples runs `cdk8s synth` against the built lib/.
      moduleNameMapper: { '^cdk8s-kmm-day1$': '<rootDir>/src' },
      reporters: [new javascript.JestReporter(NO_SKIPPED_TESTS_REPORTER)],
    },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'projenrc', '.projenrc.ts'],
    ignorePatterns: ['src/imports/', 'examples/*/dist/', 'examples/*/imports/'],
    // Type-aware linting builds a TypeScript program per tsconfig (src, test, examples, bench,
    // projenrc): some 25 s of CPU on every `npx projen test`. The cache re-lints changed files
    // only. It lives in node_modules, which `npm ci` (and so CI) starts without: CI always lints
    // everything. A cached file is not re-linted when only a file it imports changed, which can
    // hide a type-aware finding (no-floating-promises) until CI.
    commandOptions: {
      extraArgs: ['--cache', '--cache-location', 'node_modules/.cache/eslint/', '--cache-strategy', 'content'],
    },
  },
  gitignore: ['examples/*/dist/', '.bench/'],
});

// One screen per function in the library: a longer one does several things, which get names of
// their own. Counted with blank lines and comments; the generated CRD bindings are exempt.
project.eslint!.addOverride({
  files: ['src/**/*.ts'],
  excludedFiles: ['src/imports/**'],
  rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: false, skipComments: false }] },
});

// The test loop: coverage only with CI=true (CI's value, as test/util/oracles.ts reads it).
// Collecting and converting v8 coverage for every test file doubles jest's CPU time, and no
// threshold depends on it locally; `npx projen test --coverage` collects it anyway. The
// property suite scales its depth by the same variable (test/property/settings.ts).
project.testTask.reset('jest --ci --coverage=$(node -p "process.env.CI === \'true\' || process.env.CI === \'1\'")', { receiveArgs: true });
project.testTask.spawn(project.eslint!.eslintTask);

for (const pattern of ['/examples/', '/bench/', '/docs/', '/.ci/', '/crds/', '/version.json']) {
  project.addPackageIgnore(pattern);
}

// Self-reference: examples import 'cdk8s-kmm-day1' exactly as a user would. The error type is
// a subpath of its own: jsii cannot represent subclasses of Error at the package root.
project.package.addField('exports', {
  '.': { types: './lib/index.d.ts', default: './lib/index.js' },
  './errors': { types: './lib/errors.d.ts', default: './lib/errors.js' },
  './package.json': './package.json',
});

// The boot scripts and their shared fragments are real files, assembled at run time next to
// the compiled code (src/boot/scripts.ts); the fragments directory is copied afresh.
project.postCompileTask.prependExec('rm -rf lib/boot/fragments && mkdir -p lib/boot/fragments && cp src/boot/*.sh lib/boot/ '
  + '&& cp src/boot/fragments/*.sh lib/boot/fragments/ && chmod 0755 lib/boot/*.sh && chmod 0644 lib/boot/fragments/*.sh');

// L1 bindings from the real CRDs; regenerated on demand, committed, never edited by hand.
// cdk8s import names its output after the API group, so two CRDs of one group (MachineConfig
// and MachineConfigPool; BootModuleConfig and Module) would overwrite each other: a module
// name per CRD (NAME:=SPEC) gives each its own file, <name>-<group>.ts. The directory is
// cleared first so that a CRD dropped from this list leaves no stale bindings behind.
// projenrc/import-reduced.ts runs `cdk8s import` (offline, no cdk8s.yaml) on each CRD reduced
// to what a manifest in Git holds (apiVersion, kind, metadata, spec), minus the `drop` paths.
const importTask = project.addTask('import-crds', {
  description: `Regenerate src/imports/ from ${CRD_DIR} with cdk8s import, reduced to what the library sets`,
});
/** A CRD to import: its file in crds/ (without .crd.yaml) and the schema paths left out of its bindings. */
interface CrdImport {
  readonly crd: string;
  /**
   * Property paths the library never sets, dropped from every version's schema before the
   * import (`spec.a.b`, `[]` for array items; see projenrc/import-reduced.ts). The bindings are
   * loaded on every require of the package. The tests still validate against the full CRD.
   */
  readonly drop?: readonly string[];
}
const crdImports: Record<string, CrdImport> = {
  machineconfig: { crd: 'machineconfigs' },
  machineconfigpool: { crd: 'machineconfigpools' },
  bootmoduleconfig: { crd: 'bootmoduleconfigs' },
  module: {
    crd: 'modules',
    // KmmModule sets the module loader (modprobe and kernel mappings of pre-built images), the
    // pull secret and the selector. Device plugins, DRA drivers and KMM's in-cluster build and
    // signing of module images are features the library does not offer: 11,500 of the 13,000
    // lines of the full binding.
    drop: [
      'spec.devicePlugin', 'spec.dra',
      'spec.moduleLoader.container.build', 'spec.moduleLoader.container.sign',
      'spec.moduleLoader.container.kernelMappings[].build', 'spec.moduleLoader.container.kernelMappings[].sign',
    ],
  },
  kustomization: {
    crd: 'kustomizations.fluxcd',
    // FluxDelivery applies plain folders of the cluster it runs in: no remote cluster, patches,
    // substitutions, decryption, image overrides or extra health checks.
    drop: [
      'spec.kubeConfig', 'spec.patches', 'spec.postBuild', 'spec.decryption', 'spec.images',
      'spec.healthChecks', 'spec.healthCheckExprs', 'spec.commonMetadata',
    ],
  },
  gitrepository: { crd: 'gitrepositories.fluxcd' },
  application: {
    crd: 'applications.argoproj',
    // Also defines `operation` at the top level (dropped for every CRD), which would double the
    // generated file. ArgoCdApplication syncs one plain directory of one Git source: no multiple
    // sources, source hydrator, or Helm, Kustomize, Jsonnet or plugin settings.
    drop: [
      'spec.sources', 'spec.sourceHydrator',
      'spec.source.helm', 'spec.source.kustomize', 'spec.source.directory', 'spec.source.plugin',
    ],
  },
};
importTask.exec('rm -rf src/imports');
// One call per CRD: `cdk8s import` silently ignores every spec after the first.
for (const [name, { crd, drop = [] }] of Object.entries(crdImports)) {
  importTask.exec(['ts-node --project projenrc/tsconfig.json projenrc/import-reduced.ts', name,
    `${CRD_DIR}/${crd}.crd.yaml`, 'src/imports', ...drop].join(' '));
}

const examples = ['ice-nic-driver'];
const synthTask = project.addTask('synth:examples', {
  description: 'Build the library and synthesize every example app into examples/<app>/dist/',
});
synthTask.spawn(project.compileTask);
synthTask.spawn(project.postCompileTask);
for (const example of examples) {
  // Offline and reproducible: no npm registry query for a newer cdk8s-cli.
  synthTask.exec('cdk8s synth --no-check-upgrade', { cwd: `examples/${example}` });
  // ts-node runs each app with its own compiler settings; the library is resolved as a package.
  new JsonFile(project, `examples/${example}/tsconfig.json`, {
    obj: {
      compilerOptions: {
        target: 'ES2022',
        module: 'node16',
        moduleResolution: 'node16',
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        types: ['node'],
      },
      include: ['**/*.ts'],
      exclude: ['dist', 'node_modules'],
    },
  });
}

// Benchmarks are dev code outside src/ and test/: their own compiler settings, also for eslint.
new JsonFile(project, 'bench/tsconfig.json', {
  obj: {
    extends: '../tsconfig.json',
    compilerOptions: { noEmit: true, rootDir: '..' },
    include: ['**/*.ts'],
  },
});

project.addTask('bench', {
  description: 'Print the benchmark table (CLI start-up, package import time, synthesis scale, MachineConfig size); never fails on figures',
  steps: [
    { spawn: 'compile' },
    { spawn: 'post-compile' },
    { exec: 'ts-node --project bench/tsconfig.json bench/run.ts' },
  ],
});
project.addTask('bench:cli', {
  description: 'Benchmark day1-utility start-up against `node -e ""`',
  steps: [
    { spawn: 'compile' },
    { spawn: 'post-compile' },
    { exec: 'ts-node --project bench/tsconfig.json bench/cli.ts' },
  ],
});

project.addTask('bench:require', {
  description: "Benchmark `require('cdk8s-kmm-day1')` of the built lib/ against `node -e 0`, with the line counts of src/imports/",
  steps: [
    { spawn: 'compile' },
    { spawn: 'post-compile' },
    { exec: 'ts-node --project bench/tsconfig.json bench/require.ts', receiveArgs: true },
  ],
});

// The real-systemd tier (test/systemd): boots the Day 1 units with systemd as PID 1 in a
// Debian root under systemd-nspawn. Its own jest config and file suffix (.systemd.ts), so
// `projen test` never boots containers; root.sh installs the host tools and builds the cached
// root first. One scenario at a time: each boots a container.
new JsonFile(project, 'test/systemd/jest.config.json', {
  obj: {
    rootDir: '../..',
    testMatch: ['<rootDir>/test/systemd/**/*.systemd.ts'],
    testTimeout: 600_000,
    reporters: ['default', NO_SKIPPED_TESTS_REPORTER],
    moduleNameMapper: { '^cdk8s-kmm-day1$': '<rootDir>/src' },
    transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
  },
});
project.addTask('test:systemd', {
  description: 'Boot the Day 1 units under real systemd (systemd-nspawn, cached Debian bookworm root under /var/cache); needs root',
  steps: [
    { exec: 'bash test/systemd/root.sh ensure' },
    { exec: 'jest --config test/systemd/jest.config.json --runInBand --ci', receiveArgs: true },
  ],
});

// The quick-start test (test/quickstart): packs the built lib/, creates the README's quick-start
// app in a temporary folder and installs it from the npm registry, which takes about a minute.
// Its own config and suffix keep it out of `projen test`, the fast loop; the README's test
// command runs it after `projen build`, which leaves a fresh lib/.
new JsonFile(project, 'test/quickstart/jest.config.json', {
  obj: {
    rootDir: '../..',
    testMatch: ['<rootDir>/test/quickstart/**/*.quickstart.ts'],
    testTimeout: 900_000,
    reporters: ['default', NO_SKIPPED_TESTS_REPORTER],
    transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
  },
});
project.addTask('test:quickstart', {
  description: 'Create the README quick-start app from the packed library in a temporary folder, install it from the npm registry and synthesize it',
  steps: [{ exec: 'jest --config test/quickstart/jest.config.json --runInBand --ci', receiveArgs: true }],
});

// Releases, offline (release: false above: no workflow, nothing published from here). The version
// lives in version.json, committed; projen's Version component bumps it from the conventional
// commits since the last v* tag (commit-and-tag-version) and writes the release notes, which
// projen's update-changelog step prepends to CHANGELOG.md. `npx projen release` does it all and
// commits "chore(release): <version>"; then tag that commit v<version>: the next release starts
// from the latest v* tag (projen's resolve-latest-tag writes its version into version.json first).
const RELEASE_VERSION_FILE = 'version.json';
const version = new Version(project, {
  versionInputFile: RELEASE_VERSION_FILE,
  // 13.x needs Node.js 22; 12.x runs on the Node.js 20 the project supports.
  bumpPackage: 'commit-and-tag-version@^12',
  artifactsDirectory: project.artifactsDirectory,
  versionrcOptions: {
    commitUrlFormat: `${REPOSITORY_WEB}/commit/{{hash}}`,
    compareUrlFormat: `${REPOSITORY_WEB}/compare/{{previousTag}}...{{currentTag}}`,
    types: [
      { type: 'feat', section: 'Features' },
      { type: 'fix', section: 'Bug Fixes' },
      { type: 'perf', section: 'Performance' },
      { type: 'docs', section: 'Documentation' },
      { type: 'chore', hidden: true },
      { type: 'test', hidden: true },
      { type: 'refactor', hidden: true },
    ],
  },
});
// The version of package.json (and so of the packed tarball) is the released one, not projen's 0.0.0.
project.package.addVersion(JSON.parse(readFileSync(RELEASE_VERSION_FILE, 'utf8')).version);
// version.json keeps the released version: there is nothing to reset.
project.removeTask(version.unbumpTask.name);
project.addTask('release', {
  description: `Bump ${RELEASE_VERSION_FILE} from the conventional commits since the last v* tag, prepend the release notes to CHANGELOG.md and commit both; publishes nothing`,
  steps: [
    { spawn: version.bumpTask.name },
    { spawn: 'default' },
    { exec: `git add ${RELEASE_VERSION_FILE} package.json` },
    {
      builtin: 'release/update-changelog',
      env: {
        CHANGELOG: `${project.artifactsDirectory}/${version.changelogFileName}`,
        PROJECT_CHANGELOG_FILE: 'CHANGELOG.md',
        VERSION_FILE: `${project.artifactsDirectory}/${version.versionFileName}`,
      },
    },
  ],
});

project.synth();
