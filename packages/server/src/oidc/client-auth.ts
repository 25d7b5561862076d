import { findClientForAuthentication, type Kysely, type Schema } from '@tollgate/db';
import type { ClientSecretVerifier } from '@tollgate/core';
import type Provider from 'oidc-provider';

import { noteAuthFailure, rememberedClient } from './request-state.js';

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

    const result = await verifier.check(presented, row.live_secrets);

    if (!result.ok) {
      noteAuthFailure(result.reason);
    }

    return result.ok;
  };
}
