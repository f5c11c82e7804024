import { cdk8s, javascript, JsonFile } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';

const CDK8S_VERSION = '2.70.98';
const CRD_DIR = '../shared/crds';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-kmm-day1',
  description:
    'cdk8s constructs and a day1-utility compatible CLI that load out-of-tree kernel modules at boot on OpenShift nodes and hand them over to Kernel Module Management (KMM).',
  keywords: ['cdk8s', 'openshift', 'kmm', 'kernel-module', 'machineconfig', 'gitops'],
  author: 'cdk8s-kmm-day1 maintainers',
  authorAddress: 'maintainers@example.invalid',
  repositoryUrl: 'https://example.invalid/cdk8s-kmm-day1.git',
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

  peerDeps: ['cdk8s-plus-27@^2.9.5'],
  // js-yaml is not a jsii module, so it ships inside our tarball instead of as a dependency.
  bundledDeps: ['js-yaml@^4.1.0'],
  devDeps: [
    '@types/js-yaml@^4.0.9',
    'cdk8s-cli@^2.207.0',
    'cdk8s-plus-27@^2.9.5',
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
    },
  },
  tsconfigDev: {
    compilerOptions: {},
    include: ['../examples/**/*.ts', '../bench/**/*.ts'],
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'projenrc', '.projenrc.ts'],
    ignorePatterns: ['src/imports/', 'examples/*/dist/', 'examples/*/imports/'],
  },
  gitignore: ['examples/*/dist/', '.bench/'],
});

for (const pattern of ['/examples/', '/bench/', '/docs/', '/.ci/']) {
  project.addPackageIgnore(pattern);
}

// Self-reference: examples import 'cdk8s-kmm-day1' exactly as a user would.
project.package.addField('exports', {
  '.': { types: './lib/index.d.ts', default: './lib/index.js' },
  './package.json': './package.json',
});

// The boot scripts are real files read at run time next to the compiled code.
project.postCompileTask.prependExec('mkdir -p lib/boot && cp src/boot/*.sh lib/boot/ && chmod 0755 lib/boot/*.sh');

// L1 bindings from the real CRDs; regenerated on demand, committed, never edited by hand.
const importTask = project.addTask('import-crds', {
  description: `Regenerate src/imports/ from ${CRD_DIR} with cdk8s import`,
});
for (const crd of ['machineconfigs', 'machineconfigpools', 'bootmoduleconfigs', 'modules']) {
  importTask.exec(`cdk8s import ${CRD_DIR}/${crd}.crd.yaml --language typescript --output src/imports`);
}

const examples = ['ice-nic-driver'];
const synthTask = project.addTask('synth:examples', {
  description: 'Build the library and synthesize every example app into examples/<app>/dist/',
});
synthTask.spawn(project.compileTask);
synthTask.spawn(project.postCompileTask);
for (const example of examples) {
  synthTask.exec('cdk8s synth', { cwd: `examples/${example}` });
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

project.addTask('bench', {
  description: 'Print the benchmark table (CLI start-up, synthesis scale, MachineConfig size); never fails on figures',
  steps: [
    { spawn: 'compile' },
    { spawn: 'post-compile' },
    { exec: 'ts-node --project test/tsconfig.json bench/run.ts' },
  ],
});
project.addTask('bench:cli', {
  description: 'Benchmark day1-utility start-up against `node -e ""`',
  steps: [
    { spawn: 'compile' },
    { spawn: 'post-compile' },
    { exec: 'ts-node --project test/tsconfig.json bench/run.ts --only cli' },
  ],
});

project.synth();
