import { errors } from 'oidc-provider';

/**
 * A used-up budget answers with the extension error code `budget_exceeded` (RFC 6749 §8.5), so
 * that an agent runtime can tell a spending stop from a misconfiguration; the description names
 * the budget.
 */
export function budgetExceeded(description: string): Error {
  return new errors.CustomOIDCProviderError('budget_exceeded', description);
}
