import type { Database } from '../database.js';
import { Batcher, type BatcherOptions } from '../batcher.js';
import type { NewSession } from '../schema.js';
import { ledgerRow } from './ledger.js';
import type { TokenIssue } from './tokens.js';

/** What became of one issue: stored, or refused because its client moved on meanwhile. */
export type IssueOutcome = 'stored' | 'client_changed' | 'parent_inactive';

export type IssueWriterOptions = BatcherOptions;

/**
 * Measured with scripts/bench (2 cores shared by Node, Postgres and the load): one batch in
 * flight beat two, at 10 and at 50 connections alike, since a second statement mostly splits
 * the same issues into smaller batches that each pay for a commit. 32 and 64 rows measured
 * alike; the smaller bound keeps the one-by-one retry of a failed batch shorter.
 */
export const DEFAULT_ISSUE_WRITER_OPTIONS: IssueWriterOptions = { maxInFlight: 1, maxBatch: 32 };

/*
 * Stores a batch of issues in one statement, whatever its size: every column is bound as one
 * array and unnested, so the text never changes and can be prepared once per connection.
 *
 * - input: one row per issue (ord is its 1-based position in the batch).
 * - locked/gate: the issues that may be stored. An issue that carries its client's version is
 *   stored only if the client is still active at that version. The share lock makes that hold
 *   until commit: a change of the client that comes later waits for this statement (and then
 *   sees its tokens), and a client being changed right now is skipped, so its issues count as
 *   changed. Issuance thus never waits for a change, and no token slips past one.
 * - parent_tokens/parent_sessions/orphaned: a session opened by exchanging another session's
 *   token (RFC 8693 chains) is only opened while that token and session are live, under the
 *   same kind of share lock: a revocation or close that comes later waits and then finds the
 *   new session to close with its parent; one under way makes the issue count as orphaned.
 * - opened/renewed/issued/logged: the writes, each for gated issues only.
 * - Ledger rows are inserted in input order (an issue's session event before its token
 *   event), because the hash chain is later sealed in the order of their ids.
 */
const STORE_ISSUES_SQL = `
WITH input AS (
  SELECT token_id, client_pk, session_id, model, audience, scope, payload, issued_at,
         expires_at, client_version, renew_session_id, ord
  FROM unnest(
    $1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::timestamptz[], $9::timestamptz[], $10::bigint[], $11::uuid[]
  ) WITH ORDINALITY AS i(token_id, client_pk, session_id, model, audience, scope, payload,
                         issued_at, expires_at, client_version, renew_session_id, ord)
),
opening AS (
  SELECT issue, id, client_pk, subject, subject_issuer, tools, audience, actor_chain,
         parent_session_id, parent_token_id, opened_at, deadline, idle_timeout_seconds,
         last_activity_at, closed_at, close_reason
  FROM unnest(
    $12::bigint[], $13::uuid[], $14::uuid[], $15::text[], $16::text[], $17::text[], $18::text[],
    $19::text[], $20::uuid[], $21::text[], $22::timestamptz[], $23::timestamptz[], $24::int[],
    $25::timestamptz[], $26::timestamptz[], $27::text[]
  ) AS o(issue, id, client_pk, subject, subject_issuer, tools, audience, actor_chain,
         parent_session_id, parent_token_id, opened_at, deadline, idle_timeout_seconds,
         last_activity_at, closed_at, close_reason)
),
events AS (
  SELECT issue, kind, agent_id, client_id, token_id, session_id, subject, actor, request_id,
         ip, data, ord
  FROM unnest(
    $28::bigint[], $29::text[], $30::uuid[], $31::text[], $32::text[], $33::uuid[], $34::text[],
    $35::text[], $36::text[], $37::text[], $38::text[]
  ) WITH ORDINALITY AS e(issue, kind, agent_id, client_id, token_id, session_id, subject, actor,
                         request_id, ip, data, ord)
),
locked AS (
  SELECT i.ord
  FROM input i
  JOIN clients c ON c.id = i.client_pk
  WHERE c.version = i.client_version AND c.status = 'active'
  FOR SHARE OF c SKIP LOCKED
),
parent_tokens AS (
  SELECT o.issue
  FROM opening o
  JOIN LATERAL (
    SELECT 1 FROM access_tokens pt
    WHERE pt.token_id = o.parent_token_id AND pt.revoked_at IS NULL AND pt.expires_at > now()
    LIMIT 1
    FOR SHARE SKIP LOCKED
  ) AS live ON true
),
parent_sessions AS (
  SELECT o.issue
  FROM opening o
  JOIN LATERAL (
    SELECT 1 FROM sessions ps
    WHERE ps.id = o.parent_session_id AND ps.closed_at IS NULL AND ps.deadline > now()
    LIMIT 1
    FOR SHARE SKIP LOCKED
  ) AS live ON true
),
orphaned AS (
  SELECT o.issue
  FROM opening o
  WHERE (o.parent_token_id IS NOT NULL AND o.issue NOT IN (SELECT issue FROM parent_tokens))
     OR (o.parent_session_id IS NOT NULL AND o.issue NOT IN (SELECT issue FROM parent_sessions))
),
gate AS (
  SELECT ord, token_id, client_pk, session_id, model, audience, scope, payload, issued_at,
         expires_at, renew_session_id
  FROM input
  WHERE (client_version IS NULL OR ord IN (SELECT ord FROM locked))
    AND ord NOT IN (SELECT issue FROM orphaned)
),
opened AS (
  INSERT INTO sessions (id, client_pk, subject, subject_issuer, tools, audience, actor_chain,
                        parent_session_id, parent_token_id, opened_at, deadline,
                        idle_timeout_seconds, last_activity_at, closed_at, close_reason)
  SELECT o.id, o.client_pk, o.subject, o.subject_issuer,
         ARRAY(
           SELECT tool.value
           FROM jsonb_array_elements_text(o.tools::jsonb) WITH ORDINALITY AS tool(value, n)
           ORDER BY tool.n
         ),
         o.audience, o.actor_chain::jsonb, o.parent_session_id, o.parent_token_id,
         coalesce(o.opened_at, now()), o.deadline, o.idle_timeout_seconds,
         coalesce(o.last_activity_at, now()), o.closed_at, o.close_reason
  FROM opening o
  JOIN gate g ON g.ord = o.issue
),
renewed AS (
  UPDATE sessions SET last_activity_at = now()
  WHERE id IN (SELECT renew_session_id FROM gate WHERE renew_session_id IS NOT NULL)
),
issued AS (
  INSERT INTO access_tokens (token_id, client_pk, session_id, model, audience, scope, payload,
                             issued_at, expires_at)
  SELECT token_id, client_pk, session_id, model, audience, scope, payload::jsonb, issued_at,
         expires_at
  FROM gate
  RETURNING token_id
),
logged AS (
  INSERT INTO ledger_events (kind, agent_id, client_id, token_id, session_id, subject, actor,
                             request_id, ip, data)
  SELECT e.kind, e.agent_id, e.client_id, e.token_id, e.session_id, e.subject, e.actor,
         e.request_id, e.ip, e.data::jsonb
  FROM events e
  JOIN gate g ON g.ord = e.issue
  ORDER BY e.ord
)
SELECT i.token_id,
       i.token_id IN (SELECT token_id FROM issued) AS stored,
       i.ord NOT IN (SELECT issue FROM orphaned) AS parent_live
FROM input i`;

const STORE_ISSUES_NAME = 'tollgate_store_issues';

export interface StoredIssueRow {
  token_id: string;
  stored: boolean;
  parent_live: boolean;
}

/** The batch statement for these issues: its fixed text and the arrays bound to it. */
export function storeIssuesQuery(issues: readonly TokenIssue[]): {
  text: string;
  values: unknown[];
} {
  return {
    text: STORE_ISSUES_SQL,
    values: [...tokenColumns(issues), ...sessionColumns(issues), ...eventColumns(issues)],
  };
}

/** What became of each issue, in their order. */
export function issueOutcomes(
  issues: readonly TokenIssue[],
  rows: readonly StoredIssueRow[],
): IssueOutcome[] {
  const byToken = new Map(rows.map((row) => [row.token_id, row]));

  return issues.map((issue) => {
    const row = byToken.get(issue.token.tokenId);

    if (row?.stored === true) return 'stored';
    if (row?.parent_live === false) return 'parent_inactive';

    return 'client_changed';
  });
}

function tokenColumns(issues: readonly TokenIssue[]): unknown[][] {
  const tokens = issues.map((issue) => issue.token);

  return [
    tokens.map((token) => token.tokenId),
    tokens.map((token) => token.clientPk),
    tokens.map((token) => token.sessionId),
    tokens.map((token) => token.model),
    tokens.map((token) => token.audience),
    tokens.map((token) => token.scope),
    tokens.map((token) => JSON.stringify(token.payload)),
    tokens.map((token) => token.issuedAt.toISOString()),
    tokens.map((token) => token.expiresAt.toISOString()),
    issues.map((issue) => issue.clientVersion ?? null),
    issues.map((issue) => issue.renewSessionId ?? null),
  ];
}

function sessionColumns(issues: readonly TokenIssue[]): unknown[][] {
  const opening = issues.flatMap((issue, index) =>
    issue.openSession === undefined ? [] : [{ issue: index + 1, session: issue.openSession }],
  );
  const column = (pick: (session: NewSession) => unknown) =>
    opening.map(({ session }) => pick(session) ?? null);

  return [
    opening.map(({ issue }) => issue),
    column((session) => session.id),
    column((session) => session.client_pk),
    column((session) => session.subject),
    column((session) => session.subject_issuer),
    // Arrays of different lengths cannot share one SQL array: each travels as JSON.
    column((session) => JSON.stringify(session.tools)),
    column((session) => session.audience),
    column((session) => session.actor_chain),
    column((session) => session.parent_session_id),
    column((session) => session.parent_token_id),
    column((session) => timestamp(session.opened_at)),
    column((session) => timestamp(session.deadline)),
    column((session) => session.idle_timeout_seconds),
    column((session) => timestamp(session.last_activity_at)),
    column((session) => timestamp(session.closed_at)),
    column((session) => session.close_reason),
  ];
}

type LedgerRow = ReturnType<typeof ledgerRow>;

function eventColumns(issues: readonly TokenIssue[]): unknown[][] {
  const events = issues.flatMap((issue, index) =>
    issue.events.map((event) => ({ issue: index + 1, row: ledgerRow(event) })),
  );
  const column = (pick: (row: LedgerRow) => unknown) => events.map(({ row }) => pick(row));

  return [
    events.map(({ issue }) => issue),
    column((row) => row.kind),
    column((row) => row.agent_id),
    column((row) => row.client_id),
    column((row) => row.token_id),
    column((row) => row.session_id),
    column((row) => row.subject),
    column((row) => row.actor),
    column((row) => row.request_id),
    column((row) => row.ip),
    column((row) => row.data),
  ];
}

/** An unambiguous instant for either driver (each would otherwise format a Date its own way). */
function timestamp(value: Date | string | null | undefined): string | null {
  return value instanceof Date ? value.toISOString() : (value ?? null);
}

/** Group commit of token issuance (see Batcher): one statement for concurrent issues. */
export class TokenIssueWriter {
  readonly #batches: Batcher<TokenIssue, IssueOutcome>;

  constructor(
    private readonly database: Database,
    options: IssueWriterOptions = DEFAULT_ISSUE_WRITER_OPTIONS,
  ) {
    this.#batches = new Batcher((issues) => this.#store(issues), options);
  }

  /** Stores the issue with others; settles once that has committed, or failed. */
  write(issue: TokenIssue): Promise<IssueOutcome> {
    return this.#batches.submit(issue);
  }

  async #store(issues: readonly TokenIssue[]): Promise<IssueOutcome[]> {
    const { text, values } = storeIssuesQuery(issues);
    const rows = await this.database.prepared<StoredIssueRow>(STORE_ISSUES_NAME, text, values);

    return issueOutcomes(issues, rows);
  }
}
