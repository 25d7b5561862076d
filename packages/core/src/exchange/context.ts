import type { ActorClaim, ClientWithSecrets, Kysely, Schema } from '@tollgate/db';

import type { IssuerKeys } from '../issuer-keys.js';

/** What every step of an exchange may consult. */
export interface ExchangeContext {
  db: Kysely<Schema>;
  issuerKeys: IssuerKeys;
  /** Tollgate's own issuer identifier. */
  issuer: string;
  /** The authenticated agent: always the actor of the token it gets. */
  agent: ClientWithSecrets;
  now: Date;
}

/** The subject of an exchange, once its token has been verified. */
export interface ResolvedSubject {
  /** renewal: the agent's own session token; delegation: another party's token. */
  kind: 'renewal' | 'delegation';
  subject: string;
  subjectIssuer: string;
  /** Tools the subject token carries, when it is Tollgate's own: delegation only narrows. */
  tools: string[] | undefined;
  audience: string | undefined;
  /** The chain of actors the subject token already names (a renewal: its session's chain). */
  actorChain: ActorClaim | undefined;
  /** The latest time the new token may live to, from the subject token or its session. */
  notAfter: Date | undefined;
  /** The latest deadline a session opened from this subject may have (its parent session's). */
  sessionNotAfter: Date | undefined;
  /** The session being renewed, or the session whose token opened this one. */
  sessionId: string | undefined;
  /** Identifies the subject token in the ledger (a digest or the JWT's jti, never the value). */
  tokenId: string | undefined;
}
