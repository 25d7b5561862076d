import type { ClientSecretVerifier } from '@tollgate/core';
import type Provider from 'oidc-provider';

import type { ClientDirectory } from './client-directory.js';
import { currentRequestState, noteAuthFailure, noteRetryAfter } from './request-state.js';

/**
 * Replaces oidc-provider's plain comparison of client secrets with Tollgate's argon2id check
 * (through the supported `compareClientSecret` hook). The live secrets come from the client
 * directory: read for this request, or remembered where the endpoint confirms the client's
 * version in the database before acting, so revocation, rotation and expiry hold on every
 * instance at once.
 */
export function installSecretCheck(
  provider: Provider,
  directory: ClientDirectory,
  verifier: ClientSecretVerifier,
): void {
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(
    this: InstanceType<Provider['Client']>,
    presented: string,
  ): Promise<boolean> {
    const row = await directory.find(this.clientId);

    if (row === undefined) {
      noteAuthFailure('unknown_client');
      return false;
    }

    const ip = currentRequestState()?.ip;
    const limitKeys = [`client:${this.clientId}`, ...(ip === undefined ? [] : [`ip:${ip}`])];
    const result = await verifier.check(presented, row.live_secrets, limitKeys);

    if (result.ok) {
      const state = currentRequestState();

      if (state !== undefined) {
        state.authenticatedSecretId = result.secretId;
      }
    } else {
      noteAuthFailure(result.reason);

      if (result.reason === 'rate_limited') {
        noteRetryAfter(result.retryAfterSeconds);
      }
    }

    return result.ok;
  };
}
