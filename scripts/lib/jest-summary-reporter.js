// Jest reporter that ends a run with one plain, machine-readable line:
//   jest: 12 passed, 0 failed, 1 skipped
// (Jest's own summary is kept; this only adds the line after it.)
export default class SummaryReporter {
  onRunComplete(_testContexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(
      `jest: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`,
    );
  }
}
