import {
  buildSpendReport,
  governanceReport,
  parseGroupBy,
  reportPeriod,
  spendReportCsv,
  type GovernanceReport,
} from '@tollgate/core';

import type { Command, CommandContext } from './commands.js';
import { optionalString, UsageError } from './options.js';
import { formatRecords, formatTable } from './table.js';

const periodOptions = { from: { type: 'string' }, to: { type: 'string' } } as const;

const reportSpendCommand: Command = {
  path: ['report', 'spend'],
  usage: 'report spend [--group-by agent,tool] [--from ISO] [--to ISO] [--csv] [--json]',
  summary: 'usage and cost per agent, owner, person, tool, session, server, day or model',
  options: {
    'group-by': { type: 'string' },
    ...periodOptions,
    csv: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  migrateFirst: true,
  run: async ({ options, database, print }) => {
    if (options.csv === true && options.json === true) {
      throw new UsageError('give --csv or --json, not both');
    }

    const report = await buildSpendReport(database.db, {
      groupBy: parseGroupBy(optionalString(options, 'group-by')),
      period: periodOf(options),
    });

    if (options.csv === true) {
      // The CSV ends with its own line break; print adds another.
      print(spendReportCsv(report).replace(/\r\n$/, ''));
    } else if (options.json === true) {
      print(JSON.stringify(report, null, 2));
    } else {
      print(`spend from ${report.from} to ${report.to}, by ${report.group_by.join(', ')}`);
      printLines(print, report.rows.length === 0 ? ['no usage'] : formatRecords(report.rows));
    }
  },
};

const reportGovernanceCommand: Command = {
  path: ['report', 'governance'],
  usage: 'report governance [--from ISO] [--to ISO] [--json]',
  summary: 'share of usage under governance, and the agents and sessions that escape it',
  options: { ...periodOptions, json: { type: 'boolean' } },
  migrateFirst: true,
  run: async ({ options, database, print }) => {
    const report = await governanceReport(database.db, periodOf(options));

    if (options.json === true) {
      print(JSON.stringify(report, null, 2));
      return;
    }

    printGovernance(report, print);
  },
};

export const REPORT_COMMANDS: Command[] = [reportSpendCommand, reportGovernanceCommand];

function periodOf(options: CommandContext['options']) {
  return reportPeriod(optionalString(options, 'from'), optionalString(options, 'to'));
}

/** 0.875 → "87.50%". */
export function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

function printGovernance(report: GovernanceReport, print: CommandContext['print']): void {
  print(`governance from ${report.from} to ${report.to}`);
  print(`coverage: ${percent(report.coverage)} (weighted by ${report.weighted_by})`);
  printLines(
    print,
    formatTable(
      ['criterion', 'share'],
      [
        ['agent identity', percent(report.criteria.agent_identity)],
        ['tool scoped', percent(report.criteria.tool_scoped)],
        ['session closed', percent(report.criteria.session_closed)],
      ],
    ),
  );
  print(`usage: ${report.totals.reports} reports, ${report.totals.llm_tokens} LLM tokens`);

  const offenders = Object.entries(report.offenders).filter(([, rows]) => rows.length > 0);

  if (offenders.length === 0) {
    print('offenders: none');
  }

  for (const [name, rows] of offenders) {
    print('');
    print(`${name.replaceAll('_', ' ')} (${rows.length}):`);
    printLines(print, formatRecords(rows));
  }
}

function printLines(print: CommandContext['print'], lines: string[]): void {
  for (const line of lines) {
    print(line);
  }
}
