import { createHash, randomBytes, randomUUID } from 'node:crypto';

import type { ClientKind } from '@tollgate/db';

const CLIENT_ID_PREFIX: Record<ClientKind, string> = {
  agent: 'agt_',
  resource_server: 'rs_',
  admin: 'adm_',
};

/** A new primary key for a database row. */
export const newRowId = (): string => randomUUID();

/** A public OAuth client_id whose prefix tells what kind of client it is. */
export function newClientId(kind: ClientKind): string {
  return `${CLIENT_ID_PREFIX[kind]}${randomBytes(12).toString('hex')}`;
}

/**
 * The identifier under which an opaque token is stored, logged and reported: a SHA-256 digest
 * of its value. It names the token without being able to stand in for it.
 */
export function tokenIdOf(tokenValue: string): string {
  return createHash('sha256').update(tokenValue).digest('base64url');
}
