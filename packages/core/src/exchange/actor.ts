import { createLocalJWKSet, jwtVerify } from 'jose';

import { findLiveToken } from '@tollgate/db';

import { tokenIdOf } from '../ids.js';
import { CLIENT_ASSERTION_ALGS } from '../jwks.js';
import type { ExchangeContext } from './context.js';
import { badRequest } from './refusal.js';
import { TokenType } from './token-types.js';

/**
 * RFC 8693 §2.1: the actor token, when sent, must prove the same party that authenticated.
 * Tollgate never lets one agent present another as the actor: impersonation is not offered.
 */
export async function assertActorIsAgent(
  context: ExchangeContext,
  actorToken: string,
  actorTokenType: string,
): Promise<void> {
  const isAgent =
    actorTokenType === TokenType.accessToken
      ? await isAgentsOwnToken(context, actorToken)
      : await isSignedByAgent(context, actorToken);

  if (!isAgent) {
    throw badRequest(
      'actor_mismatch',
      'actor_token must be a live token of, or a JWT signed by, the authenticated agent',
    );
  }
}

async function isAgentsOwnToken(context: ExchangeContext, token: string): Promise<boolean> {
  const found = await findLiveToken(context.db, tokenIdOf(token));

  return found?.client_pk === context.agent.id;
}

async function isSignedByAgent(context: ExchangeContext, token: string): Promise<boolean> {
  const { agent } = context;

  if (agent.jwks === null) {
    return false;
  }

  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(agent.jwks), {
      issuer: agent.client_id,
      subject: agent.client_id,
      audience: context.issuer,
      algorithms: [...CLIENT_ASSERTION_ALGS],
      requiredClaims: ['exp'],
      currentDate: context.now,
    });

    return payload.sub === agent.client_id;
  } catch {
    return false;
  }
}
