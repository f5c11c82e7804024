'use strict';
/*
 * A jest reporter that fails the run when CI=true and any test was skipped (`test.skip`,
 * `describe.skip`, `test.todo`, a `testWithOracle` whose oracle is missing outside CI...): a
 * green CI run must mean that every test ran. Locally it only prints the count, because a missing
 * oracle there is expected. A run narrowed with -t/--testNamePattern skips the tests it leaves out
 * on purpose, so it is not checked.
 *
 * Plain JavaScript: jest loads reporters with require(), before any transform.
 */
const { relative } = require('path');

const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const SKIPPED = new Set(['pending', 'skipped', 'todo', 'disabled']);

class NoSkippedTestsReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.error = undefined;
  }

  onRunComplete(_contexts, results) {
    if (this.globalConfig.testNamePattern) return;
    const skipped = [];
    for (const file of results.testResults) {
      const where = relative(this.globalConfig.rootDir, file.testFilePath);
      if (file.skipped && file.testResults.length === 0) skipped.push(`${where}: every test of the file`);
      for (const result of file.testResults) {
        if (SKIPPED.has(result.status)) skipped.push(`${where}: ${result.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    const list = skipped.map((line) => `  - ${line}`).join('\n');
    if (IN_CI) {
      this.error = new Error(`CI=true: ${skipped.length} test(s) skipped; every test must run in CI:\n${list}`);
      process.stderr.write(`\n${this.error.message}\n`);
    } else {
      process.stderr.write(`\n${skipped.length} test(s) skipped (this fails with CI=true):\n${list}\n`);
    }
  }

  getLastError() {
    return this.error;
  }
}

module.exports = NoSkippedTestsReporter;
