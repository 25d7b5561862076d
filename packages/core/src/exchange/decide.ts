import { randomUUID } from 'node:crypto';

import type { ActorClaim, NewSession } from '@tollgate/db';

import { describeBudget, exhaustedBudget } from '../budgets.js';
import { normalizeAudience } from '../validation.js';
import { assertActorIsAgent } from './actor.js';
import { withActor } from './actor-chain.js';
import type { ExchangeContext, ResolvedSubject } from './context.js';
import { badRequest, ExchangeRefusal } from './refusal.js';
import { resolveSubject } from './subject.js';
import {
  ACTOR_TOKEN_TYPES,
  ISSUABLE_TOKEN_TYPES,
  SUBJECT_TOKEN_TYPES,
  TokenType,
} from './token-types.js';

/** The parameters of an RFC 8693 request, as the token endpoint received them. */
export interface ExchangeRequest {
  subjectToken?: string | undefined;
  subjectTokenType?: string | undefined;
  actorToken?: string | undefined;
  actorTokenType?: string | undefined;
  requestedTokenType?: string | undefined;
  resources: string[];
  audiences: string[];
  scope?: string | undefined;
}

/** What the exchange will issue: one access token in one session. */
export interface ExchangeDecision {
  subject: string;
  subjectIssuer: string;
  tools: string[];
  audience: string;
  act: ActorClaim | undefined;
  expiresAt: Date;
  sessionId: string;
  /** A session to open with the token; absent when an open session is renewed. */
  openSession: NewSession | undefined;
  renewal: boolean;
  issuedTokenType: string;
  /** Facts for the ledger event of the issued token. */
  eventData: Record<string, unknown>;
}

/**
 * Decides an exchange as a list of named steps: check the parameters, verify the subject and
 * the actor, settle target, tools, lifetime, actor chain and session. Any step may refuse.
 */
export async function decideExchange(
  context: ExchangeContext,
  request: ExchangeRequest,
): Promise<ExchangeDecision> {
  const params = checkParameters(request);

  if (params.actorToken !== undefined && params.actorTokenType !== undefined) {
    await assertActorIsAgent(context, params.actorToken, params.actorTokenType);
  }

  const subject = await resolveSubject(context, params.subjectToken, params.subjectTokenType);
  const audience = resolveAudience(context, subject, request);
  const tools = resolveTools(context, subject, request.scope);
  const expiresAt = resolveExpiry(context, subject);
  const act = resolveActorChain(context, subject);
  const session = resolveSession(context, subject, { tools, audience, act, expiresAt });

  await assertBudgetLeft(context, subject.kind === 'renewal' ? session.id : undefined);

  return {
    subject: subject.subject,
    subjectIssuer: subject.subjectIssuer,
    tools,
    audience,
    act,
    expiresAt,
    sessionId: session.id,
    openSession: session.open,
    renewal: subject.kind === 'renewal',
    issuedTokenType: TokenType.accessToken,
    eventData: {
      exchange: subject.kind,
      subject_token_issuer: subject.subjectIssuer,
      subject_token_id: subject.tokenId ?? null,
      act: act ?? null,
    },
  };
}

interface CheckedParameters {
  subjectToken: string;
  subjectTokenType: string;
  actorToken: string | undefined;
  actorTokenType: string | undefined;
}

/** RFC 8693 §2.1–2.2: required parameters, paired actor parameters, known token types. */
function checkParameters(request: ExchangeRequest): CheckedParameters {
  const { subjectToken, subjectTokenType, actorToken, actorTokenType } = request;

  if (subjectToken === undefined || subjectToken === '') {
    throw badRequest('missing_parameter', 'subject_token is required');
  }

  if (subjectTokenType === undefined || subjectTokenType === '') {
    throw badRequest('missing_parameter', 'subject_token_type is required');
  }

  if (!SUBJECT_TOKEN_TYPES.includes(subjectTokenType)) {
    throw badRequest(
      'unsupported_subject_token_type',
      `subject_token_type ${subjectTokenType} is not supported`,
    );
  }

  if ((actorToken === undefined) !== (actorTokenType === undefined)) {
    throw badRequest('actor_parameters_unpaired', 'actor_token and actor_token_type go together');
  }

  if (actorTokenType !== undefined && !ACTOR_TOKEN_TYPES.includes(actorTokenType)) {
    throw badRequest(
      'unsupported_actor_token_type',
      `actor_token_type ${actorTokenType} is not supported`,
    );
  }

  const requested = request.requestedTokenType;

  if (requested !== undefined && !ISSUABLE_TOKEN_TYPES.includes(requested)) {
    throw badRequest('unsupported_requested_token_type', `Tollgate cannot issue ${requested}`);
  }

  return { subjectToken, subjectTokenType, actorToken, actorTokenType };
}

/**
 * One target per token (RFC 8707 policy): `resource` URIs and `audience` names together must
 * name a single audience the agent may call; a renewal stays on its session's audience.
 */
function resolveAudience(
  context: ExchangeContext,
  subject: ResolvedSubject,
  request: ExchangeRequest,
): string {
  const named = [...request.resources, ...request.audiences].map((value) => {
    const audience = normalizeAudience(value);

    if (audience === undefined) {
      throw new ExchangeRefusal(
        'invalid_target',
        'target_malformed',
        `${value} is not an absolute URI`,
      );
    }

    return audience;
  });
  const distinct = [...new Set(named)];

  if (distinct.length > 1) {
    throw new ExchangeRefusal(
      'invalid_target',
      'several_targets',
      'a token is for exactly one audience',
    );
  }

  const audience = distinct[0] ?? subject.audience ?? soleAudience(context);

  if (subject.audience !== undefined && audience !== subject.audience) {
    throw new ExchangeRefusal(
      'invalid_target',
      'renewal_target_changed',
      'a renewal keeps its session audience',
    );
  }

  if (!context.agent.audiences.includes(audience)) {
    throw new ExchangeRefusal(
      'invalid_target',
      'target_not_allowed',
      `this agent may not call ${audience}`,
    );
  }

  return audience;
}

function soleAudience(context: ExchangeContext): string {
  const [only, ...others] = context.agent.audiences;

  if (only === undefined || others.length > 0) {
    throw new ExchangeRefusal(
      'invalid_target',
      'target_missing',
      'resource or audience is required',
    );
  }

  return only;
}

/** Delegation only narrows: tools ⊆ agent's allow-list ∩ subject token's tools (TE-16). */
function resolveTools(
  context: ExchangeContext,
  subject: ResolvedSubject,
  scope: string | undefined,
): string[] {
  const requested = [...new Set((scope ?? '').split(' ').filter((tool) => tool !== ''))];
  const allowed = context.agent.tools.filter(
    (tool) => subject.tools === undefined || subject.tools.includes(tool),
  );
  const tools = requested.length > 0 || subject.tools === undefined ? requested : allowed;

  if (tools.length === 0) {
    throw new ExchangeRefusal(
      'invalid_scope',
      'scope_missing',
      'scope is required: name the tools this token is for',
    );
  }

  const refused = tools.filter((tool) => !allowed.includes(tool));

  if (refused.length > 0) {
    throw new ExchangeRefusal(
      'invalid_scope',
      'tools_not_delegable',
      `cannot be delegated: ${refused.join(' ')}`,
    );
  }

  return tools;
}

/** The token lives its agent's lifetime, capped by the subject token or its session. */
function resolveExpiry(context: ExchangeContext, subject: ResolvedSubject): Date {
  const byAgent = context.now.getTime() + context.agent.token_ttl_seconds * 1000;
  const bySession = context.now.getTime() + context.agent.session_max_seconds * 1000;
  const cap = Math.min(byAgent, bySession, subject.notAfter?.getTime() ?? Infinity);

  if (cap <= context.now.getTime()) {
    throw badRequest('subject_token_expiring', 'subject_token or its session has no time left');
  }

  return new Date(cap);
}

/** The authenticated agent is always the current actor, in front of any earlier ones. */
function resolveActorChain(
  context: ExchangeContext,
  subject: ResolvedSubject,
): ActorClaim | undefined {
  if (subject.kind === 'renewal') {
    // A renewed token keeps its session's chain: it is still the agent acting for the subject.
    return subject.actorChain;
  }

  return withActor({ sub: context.agent.client_id, iss: context.issuer }, subject.actorChain);
}

/** A used-up budget stops new tokens for the agent, and renewals of a used-up session. */
async function assertBudgetLeft(context: ExchangeContext, renewedSessionId: string | undefined) {
  const exhausted = await exhaustedBudget(context.db, context.agent, renewedSessionId, context.now);

  if (exhausted !== undefined) {
    throw new ExchangeRefusal(
      'budget_exceeded',
      `budget_${exhausted.limit}`,
      describeBudget(exhausted),
    );
  }
}

interface SessionShape {
  tools: string[];
  audience: string;
  act: ActorClaim | undefined;
  expiresAt: Date;
}

function resolveSession(
  context: ExchangeContext,
  subject: ResolvedSubject,
  shape: SessionShape,
): { id: string; open: NewSession | undefined } {
  if (subject.kind === 'renewal' && subject.sessionId !== undefined) {
    return { id: subject.sessionId, open: undefined };
  }

  const id = randomUUID();
  const sessionEnd = context.now.getTime() + context.agent.session_max_seconds * 1000;
  const deadline = new Date(Math.min(sessionEnd, subject.sessionNotAfter?.getTime() ?? Infinity));

  return {
    id,
    open: {
      id,
      client_pk: context.agent.id,
      subject: subject.subject,
      subject_issuer: subject.subjectIssuer,
      tools: shape.tools,
      audience: shape.audience,
      actor_chain: shape.act === undefined ? null : JSON.stringify(shape.act),
      parent_session_id: subject.sessionId ?? null,
      parent_token_id: subject.sessionId === undefined ? null : (subject.tokenId ?? null),
      deadline,
      idle_timeout_seconds: context.agent.session_idle_seconds,
    },
  };
}
