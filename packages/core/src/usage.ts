import { createHash } from 'node:crypto';

import {
  findTokenForUsage,
  findUsageByKey,
  recordUsage,
  type Kysely,
  type Schema,
  type TokenForUsage,
  type UsageReportRow,
} from '@tollgate/db';

import { recordReachedBudgets } from './budget-reached.js';
import { AppError, conflict, invalidInput, notFound } from './errors.js';
import { newRowId, tokenIdOf } from './ids.js';
import { LedgerKind, type AuditContext } from './ledger.js';
import { readUsageInput, type UsageInput } from './usage-input.js';

/** The resource server reporting, as authenticated by the HTTP edge. */
export interface ReportingServer {
  id: string;
  clientId: string;
  audience: string;
}

/** A usage report as resource servers and the management API see it. */
export interface UsageView {
  id: string;
  token_id: string;
  agent_id: string;
  session_id: string | null;
  subject: string | null;
  tool: string;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  calls: number;
  cost: string | null;
  currency: string | null;
  occurred_at: string;
  received_at: string;
}

export function usageView(row: UsageReportRow): UsageView {
  return {
    id: row.id,
    token_id: row.token_id,
    agent_id: row.agent_pk,
    session_id: row.session_id,
    subject: row.subject,
    tool: row.tool,
    model: row.model,
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    calls: row.calls,
    cost: row.cost === null ? null : sixPlaces(row.cost),
    currency: row.currency,
    occurred_at: row.occurred_at.toISOString(),
    received_at: row.received_at.toISOString(),
  };
}

/** Costs are numeric(20, 6): shown with all six places, whichever way the driver read them. */
function sixPlaces(decimal: string): string {
  const [whole = '0', fraction = ''] = decimal.split('.');

  return `${whole}.${fraction.padEnd(6, '0')}`;
}

/** Late reports are normal, clocks are not perfect: how far outside a token's life we accept. */
const CLOCK_SKEW_MS = 60_000;

export interface IngestResult {
  /** false when the idempotency key was seen before: the first result is returned again. */
  created: boolean;
  usage: UsageView;
}

/**
 * Accepts one usage report from a resource server: resolves the token to agent, person, session
 * and tools; refuses tokens not meant for this server, tools outside the token's scope and usage
 * outside the token's life; stores report, ledger event and spend counters together; then
 * records any budget the report used up.
 */
export async function ingestUsage(
  db: Kysely<Schema>,
  server: ReportingServer,
  body: unknown,
  audit: AuditContext,
  now = new Date(),
): Promise<IngestResult> {
  const input = readUsageInput(body, now);
  const tokenId = input.tokenId ?? tokenIdOf(input.token ?? '');
  const earlier = await findUsageByKey(db, server.id, input.idempotencyKey);

  // A retry is answered from what was stored, even once the token has expired or been swept.
  if (earlier !== undefined) {
    if (earlier.request_hash !== requestHash(tokenId, input)) {
      throw conflict('idempotency_key was already used for a different report');
    }

    return { created: false, usage: usageView(earlier) };
  }

  const token = await findTokenForUsage(db, tokenId);

  assertReportable(token, server, input);

  const recorded = await recordUsage(db, usageRow(server, token, input, tokenId), {
    kind: LedgerKind.usageReported,
    clientId: server.clientId,
    actor: server.clientId,
    requestId: audit.requestId,
    ip: audit.ip,
    data: usageEventData(input),
  });

  if (!recorded.created && recorded.report.request_hash !== requestHash(tokenId, input)) {
    throw conflict('idempotency_key was already used for a different report');
  }

  if (recorded.created) {
    await recordReachedBudgets(db, token, recorded.counters, audit);
  }

  return { created: recorded.created, usage: usageView(recorded.report) };
}

function assertReportable(
  token: TokenForUsage | undefined,
  server: ReportingServer,
  input: UsageInput,
): asserts token is TokenForUsage {
  if (token === undefined || token.agent_kind !== 'agent') {
    throw notFound('token');
  }

  if (token.audience !== server.audience) {
    throw new AppError('forbidden', 403, 'the token was not issued for this resource server');
  }

  const tools = token.scope === null ? [] : token.scope.split(' ');

  if (!tools.includes(input.tool)) {
    throw new AppError('forbidden', 403, `tool ${input.tool} is outside the token's scope`);
  }

  const endedAt = Math.min(
    token.expires_at.getTime(),
    token.revoked_at?.getTime() ?? Infinity,
    token.session_ended_at?.getTime() ?? Infinity,
  );
  const occurred = input.occurredAt.getTime();

  if (occurred < token.issued_at.getTime() - CLOCK_SKEW_MS || occurred > endedAt + CLOCK_SKEW_MS) {
    throw invalidInput('the token was not active when the usage occurred', [
      { path: 'occurred_at', message: 'outside the life of the token' },
    ]);
  }
}

function usageRow(
  server: ReportingServer,
  token: TokenForUsage,
  input: UsageInput,
  tokenId: string,
) {
  return {
    id: newRowId(),
    resource_server_pk: server.id,
    idempotency_key: input.idempotencyKey,
    request_hash: requestHash(tokenId, input),
    token_id: tokenId,
    agent_pk: token.agent_pk,
    owner: token.owner,
    session_id: token.session_id,
    subject: token.subject,
    tool: input.tool,
    model: input.model,
    input_tokens: input.inputTokens,
    output_tokens: input.outputTokens,
    calls: input.calls,
    cost: input.cost,
    currency: input.currency,
    occurred_at: input.occurredAt,
  };
}

function usageEventData(input: UsageInput): Record<string, unknown> {
  return {
    tool: input.tool,
    model: input.model,
    input_tokens: input.inputTokens,
    output_tokens: input.outputTokens,
    calls: input.calls,
    cost: input.cost,
    currency: input.currency,
    occurred_at: input.occurredAt.toISOString(),
    idempotency_key: input.idempotencyKey,
  };
}

/** Identifies a report's content, so that a replay can be told from a clash of keys. */
function requestHash(tokenId: string, input: UsageInput): string {
  const content = [
    tokenId,
    input.tool,
    input.model,
    input.inputTokens,
    input.outputTokens,
    input.calls,
    input.cost,
    input.currency,
    // An undated report is dated on arrival; its replay arrives later and must still match.
    input.occurredAtGiven ? input.occurredAt.toISOString() : null,
  ];

  return createHash('sha256').update(JSON.stringify(content)).digest('base64url');
}
