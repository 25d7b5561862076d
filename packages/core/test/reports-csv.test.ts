import { spendReportCsv, type SpendLine } from '@tollgate/core';

function csvOf(rows: SpendLine[]): string[] {
  const report = { from: '2026-12-01', to: '2026-12-02', group_by: [], rows };

  return spendReportCsv(report).split('\r\n');
}

describe('spend report CSV', () => {
  it('keeps every cell that a spreadsheet would run as a formula as text', () => {
    const lines = csvOf(
      ['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1', 'plain'].map((agent) => ({ agent })),
    );

    expect(lines.slice(1, -1)).toEqual([
      "'=1+1",
      "'+1",
      "'-1",
      "'@SUM(A1)",
      "'\t=1",
      `"'\r=1"`,
      'plain',
    ]);
  });

  it('quotes commas and quotes as RFC 4180 says, and leaves numbers alone', () => {
    const lines = csvOf([{ agent: 'a, "b"', calls: -3 }]);

    expect(lines[0]).toBe('agent,calls');
    expect(lines[1]).toBe('"a, ""b""",-3');
  });
});
