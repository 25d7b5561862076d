export * from './database.js';
export * from './errors.js';
export { DataDirBusyError } from './data-dir-lock.js';
export * from './migrator.js';
export type * from './schema.js';
export * from './queries/clients.js';
export * from './queries/secrets.js';
export * from './queries/tokens.js';
export {
  DEFAULT_ISSUE_WRITER_OPTIONS,
  TokenIssueWriter,
  type IssueOutcome,
  type IssueWriterOptions,
} from './queries/issue-writer.js';
export {
  DEFAULT_REPLAY_WRITER_OPTIONS,
  ReplayWriter,
  type ReplayWriterOptions,
} from './queries/replay-writer.js';
export * from './queries/ledger.js';
export * from './queries/oidc-models.js';
export * from './queries/keys.js';
export type { Kysely, Transaction } from 'kysely';
export * from './queries/sessions.js';
export * from './queries/trusted-issuers.js';
export * from './queries/usage.js';
export * from './queries/budgets.js';
export * from './queries/chain.js';
export * from './queries/reports.js';
export * from './queries/live-token.js';
