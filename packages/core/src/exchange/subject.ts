import { errors as joseErrors, decodeJwt, jwtVerify, type JWTPayload } from 'jose';

import { findActiveTrustedIssuer, findLiveSessionToken, type TrustedIssuerRow } from '@tollgate/db';

import { tokenIdOf } from '../ids.js';
import { readActorClaim } from './actor-chain.js';
import type { ExchangeContext, ResolvedSubject } from './context.js';
import { badRequest, ExchangeRefusal } from './refusal.js';
import { TokenType } from './token-types.js';

/** Signature algorithms accepted from identity providers; never none, never a shared key. */
/** OpenID Connect Core §2 caps `sub` at 255 ASCII characters; nothing longer is a user id. */
const MAX_SUBJECT_LENGTH = 255;

const SUBJECT_JWT_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];

/** Verifies the subject token and says whom the new token will be for. */
export async function resolveSubject(
  context: ExchangeContext,
  token: string,
  tokenType: string,
): Promise<ResolvedSubject> {
  return tokenType === TokenType.accessToken
    ? resolveTollgateSubject(context, token)
    : resolveJwtSubject(context, token);
}

/**
 * A Tollgate token: the agent's own (renewal of its session) or another agent's (delegation
 * down a chain of agents, which the agent's policy must allow by trusting Tollgate's issuer).
 */
async function resolveTollgateSubject(
  context: ExchangeContext,
  token: string,
): Promise<ResolvedSubject> {
  const tokenId = tokenIdOf(token);
  const found = await findLiveSessionToken(context.db, tokenId);

  if (found === undefined) {
    throw badRequest(
      'subject_token_inactive',
      'subject_token is not active (unknown, expired, revoked, or its session is closed)',
    );
  }

  const isRenewal = found.client_pk === context.agent.id;

  if (!isRenewal) {
    assertChainTrusted(context, found.session_subject, found.session_subject_issuer);
  }

  return {
    kind: isRenewal ? 'renewal' : 'delegation',
    subject: found.session_subject ?? found.client_id,
    subjectIssuer: found.session_subject_issuer ?? context.issuer,
    tools: found.scope === null ? [] : found.scope.split(' '),
    audience: isRenewal ? (found.session_audience ?? undefined) : undefined,
    actorChain: found.session_actor_chain ?? undefined,
    // A renewal may outlive the token it renews, never its session; delegation neither.
    notAfter: isRenewal
      ? found.session_deadline
      : new Date(Math.min(found.expires_at.getTime(), found.session_deadline.getTime())),
    // TE-19: a session opened from another agent's token ends when that token does.
    sessionNotAfter: isRenewal
      ? found.session_deadline
      : new Date(Math.min(found.expires_at.getTime(), found.session_deadline.getTime())),
    sessionId: found.session_id,
    tokenId,
  };
}

/** A JWT from a trusted identity provider, verified against that provider's keys. */
async function resolveJwtSubject(
  context: ExchangeContext,
  token: string,
): Promise<ResolvedSubject> {
  const claimedIssuer = unverifiedIssuer(token);
  const trusted = await findActiveTrustedIssuer(context.db, claimedIssuer);

  if (trusted === undefined) {
    throw badRequest(
      'subject_issuer_untrusted',
      `subject_token issuer ${claimedIssuer} is not trusted`,
    );
  }

  assertIssuerTrusted(context, trusted.issuer);

  const payload = await verifySubjectJwt(context, trusted, token);
  const subject = payload[trusted.user_claim];

  if (typeof subject !== 'string' || subject === '') {
    throw badRequest('subject_claim_missing', `subject_token has no ${trusted.user_claim} claim`);
  }

  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw badRequest(
      'subject_claim_invalid',
      `subject_token ${trusted.user_claim} is longer than ${MAX_SUBJECT_LENGTH} characters`,
    );
  }

  assertSubjectAllowed(context, subject);
  assertMayAct(context, payload.may_act);

  return {
    kind: 'delegation',
    subject,
    subjectIssuer: trusted.issuer,
    tools: undefined,
    audience: undefined,
    actorChain: readActorClaim(payload.act),
    notAfter: payload.exp === undefined ? undefined : new Date(payload.exp * 1000),
    // The person's token caps the first token, not the task: the session renews past it.
    sessionNotAfter: undefined,
    sessionId: undefined,
    tokenId: typeof payload.jti === 'string' ? payload.jti : undefined,
  };
}

function unverifiedIssuer(token: string): string {
  try {
    const { iss } = decodeJwt(token);

    // eslint-disable-next-line no-control-regex -- an issuer is printable; refuse anything else
    if (typeof iss === 'string' && iss.length <= 2048 && !/[\u0000-\u001f]/.test(iss)) {
      return iss;
    }
  } catch {
    // Falls through to the refusal below: the value is not a JWT at all.
  }

  throw badRequest('subject_token_malformed', 'subject_token is not a JWT with an iss claim');
}

async function verifySubjectJwt(
  context: ExchangeContext,
  trusted: TrustedIssuerRow,
  token: string,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, context.issuerKeys.keysFor(trusted), {
      issuer: trusted.issuer,
      audience: trusted.audiences,
      algorithms: SUBJECT_JWT_ALGS,
      requiredClaims: ['exp'],
      currentDate: context.now,
      clockTolerance: 5,
    });

    return payload;
  } catch (error) {
    throw badRequest('subject_token_invalid', `subject_token rejected: ${joseReason(error)}`);
  }
}

/** A short, safe explanation of why jose refused a token. */
function joseReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `claim ${error.claim} is not acceptable`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'signature does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'signature algorithm not allowed';
  if (error instanceof joseErrors.JWKSTimeout)
    return "the issuer's keys could not be fetched in time";

  return 'not a valid signed JWT';
}

/**
 * Delegation down a chain of agents: the agent must trust Tollgate's own tokens, and the person
 * at the start of the chain must be one it may act for, from an issuer it trusts, exactly as if
 * it had received that person's token itself.
 */
function assertChainTrusted(
  context: ExchangeContext,
  subject: string | null,
  subjectIssuer: string | null,
): void {
  assertIssuerTrusted(context, context.issuer);

  if (subjectIssuer !== null && subjectIssuer !== context.issuer) {
    assertIssuerTrusted(context, subjectIssuer);
  }

  if (subject !== null) {
    assertSubjectAllowed(context, subject);
  }
}

/** Agents act only for users of issuers their delegation policy names. */
function assertIssuerTrusted(context: ExchangeContext, issuer: string): void {
  const trusted = context.agent.delegation.trusted_issuers ?? [];

  if (trusted.length === 0) {
    throw new ExchangeRefusal(
      'unauthorized_client',
      'delegation_not_allowed',
      'this agent is not allowed to act for others (its delegation policy trusts no issuer)',
    );
  }

  if (!trusted.includes(issuer)) {
    throw badRequest(
      'issuer_not_allowed_for_agent',
      `this agent may not act for subjects of ${issuer}`,
    );
  }
}

function assertSubjectAllowed(context: ExchangeContext, subject: string): void {
  const allowed = context.agent.delegation.allowed_subjects;

  if (allowed !== undefined && !allowed.includes(subject)) {
    throw badRequest('subject_not_allowed', 'this agent may not act for this subject');
  }
}

/** RFC 8693 §4.4: a subject token that names who may act for it must name this agent. */
function assertMayAct(context: ExchangeContext, mayAct: unknown): void {
  if (mayAct === undefined) {
    return;
  }

  const { sub, iss } = (typeof mayAct === 'object' && mayAct !== null ? mayAct : {}) as Record<
    string,
    unknown
  >;
  const namesAgent =
    sub === context.agent.client_id && (iss === undefined || iss === context.issuer);

  if (!namesAgent) {
    throw badRequest(
      'may_act_mismatch',
      'subject_token does not allow this agent to act for it (may_act)',
    );
  }
}
