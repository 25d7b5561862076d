import type { ActorClaim } from '@tollgate/db';

import { badRequest } from './refusal.js';

/** How many actors a delegation chain may hold (RFC 8693 leaves the limit to policy). */
export const MAX_ACTOR_DEPTH = 5;

/**
 * Reads an `act` claim from an untrusted token into its plain shape: only `sub`, `iss` and the
 * nested `act` survive, since RFC 8693 §4.1 makes time claims meaningless there.
 */
export function readActorClaim(value: unknown, depth = 1): ActorClaim | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }

  if (typeof value !== 'object' || depth > MAX_ACTOR_DEPTH) {
    throw badRequest('actor_chain_invalid', 'the act claim is malformed or nested too deep');
  }

  const { sub, iss, act } = value as Record<string, unknown>;

  if (typeof sub !== 'string' || (iss !== undefined && typeof iss !== 'string')) {
    throw badRequest('actor_chain_invalid', 'every actor in the act claim needs a string sub');
  }

  const nested = readActorClaim(act, depth + 1);

  return {
    sub,
    ...(iss === undefined ? {} : { iss }),
    ...(nested === undefined ? {} : { act: nested }),
  };
}

/** Puts the current actor in front of the chain, the most recent actor outermost (§4.1). */
export function withActor(actor: ActorClaim, previous: ActorClaim | undefined): ActorClaim {
  const chain = previous === undefined ? actor : { ...actor, act: previous };

  if (depthOf(chain) > MAX_ACTOR_DEPTH) {
    throw badRequest(
      'actor_chain_too_deep',
      `delegation chains are limited to ${MAX_ACTOR_DEPTH} actors`,
    );
  }

  return chain;
}

function depthOf(claim: ActorClaim): number {
  return claim.act === undefined ? 1 : 1 + depthOf(claim.act);
}
