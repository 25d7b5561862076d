// Jest reporter that ends the output with one plain, machine-readable line:
//   jest: 12 passed, 0 failed, 1 skipped
// Jest's own summary is kept. The line is written when the process exits, so that it
// comes after Jest's summary and its "Ran all test suites." line.
export default class SummaryReporter {
  #line = null;

  constructor() {
    process.once('exit', () => {
      if (this.#line !== null) {
        process.stdout.write(`${this.#line}\n`);
      }
    });
  }

  onRunComplete(_testContexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    this.#line = `jest: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped`;
  }
}
