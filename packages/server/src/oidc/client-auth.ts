import { findClientForAuthentication, type Kysely, type Schema } from '@tollgate/db';
import type { ClientSecretVerifier } from '@tollgate/core';
import type Provider from 'oidc-provider';

import {
  currentRequestState,
  noteAuthFailure,
  noteRetryAfter,
  rememberedClient,
} from './request-state.js';

/**
 * Replaces oidc-provider's plain comparison of client secrets with Tollgate's argon2id check
 * (through the supported `compareClientSecret` hook). The live secrets are read from the
 * database for this request, so revocation, rotation and expiry hold on every instance.
 */
export function installSecretCheck(
  provider: Provider,
  db: Kysely<Schema>,
  verifier: ClientSecretVerifier,
): void {
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(
    this: InstanceType<Provider['Client']>,
    presented: string,
  ): Promise<boolean> {
    const row =
      rememberedClient(this.clientId) ?? (await findClientForAuthentication(db, this.clientId));

    if (row === undefined) {
      noteAuthFailure('unknown_client');
      return false;
    }

    const ip = currentRequestState()?.ip;
    const limitKeys = [`client:${this.clientId}`, ...(ip === undefined ? [] : [`ip:${ip}`])];
    const result = await verifier.check(presented, row.live_secrets, limitKeys);

    if (!result.ok) {
      noteAuthFailure(result.reason);

      if (result.reason === 'rate_limited') {
        noteRetryAfter(result.retryAfterSeconds);
      }
    }

    return result.ok;
  };
}
