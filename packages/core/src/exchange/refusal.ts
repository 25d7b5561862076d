/** The RFC 6749 / RFC 8693 error codes a refused exchange answers with. */
export type ExchangeErrorCode =
  | 'invalid_request'
  | 'invalid_target'
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'budget_exceeded';

/**
 * A token exchange Tollgate will not perform. `reason` is a stable code for the ledger;
 * `description` is shown to the agent as error_description, so it must not leak secrets.
 */
export class ExchangeRefusal extends Error {
  override readonly name = 'ExchangeRefusal';

  constructor(
    readonly error: ExchangeErrorCode,
    readonly reason: string,
    readonly description: string,
  ) {
    super(description);
  }
}

/** RFC 8693 §2.2.2: anything wrong with the subject or actor token is invalid_request. */
export const badRequest = (reason: string, description: string) =>
  new ExchangeRefusal('invalid_request', reason, description);
