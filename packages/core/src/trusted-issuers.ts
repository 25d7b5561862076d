import {
  findTrustedIssuerById,
  insertTrustedIssuer,
  listTrustedIssuers,
  UniqueViolationError,
  updateTrustedIssuer,
  type Kysely,
  type PublicJwks,
  type Schema,
  type TrustedIssuerChanges,
  type TrustedIssuerRow,
} from '@tollgate/db';

import { conflict, invalidInput, notFound } from './errors.js';
import { newRowId } from './ids.js';
import { validatePublicJwks } from './jwks.js';
import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';
import { isRowId } from './pagination.js';

/** An identity provider whose JWTs agents may exchange, as the management API shows it. */
export interface TrustedIssuerView {
  id: string;
  issuer: string;
  jwks_uri: string | null;
  jwks: PublicJwks | null;
  audiences: string[];
  user_claim: string;
  status: 'active' | 'disabled';
  created_at: string;
  updated_at: string;
}

export function trustedIssuerView(row: TrustedIssuerRow): TrustedIssuerView {
  return {
    id: row.id,
    issuer: row.issuer,
    jwks_uri: row.jwks_uri,
    jwks: row.jwks,
    audiences: row.audiences,
    user_claim: row.user_claim,
    status: row.status,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface TrustedIssuerInput {
  issuer: string;
  jwks_uri?: string | undefined;
  jwks?: PublicJwks | undefined;
  audiences: string[];
  user_claim?: string | undefined;
}

export async function createTrustedIssuer(
  db: Kysely<Schema>,
  input: TrustedIssuerInput,
  audit: AuditContext,
): Promise<TrustedIssuerView> {
  const keySource = await validateKeySource(input.jwks_uri, input.jwks);
  validateIssuer(input.issuer);

  try {
    const row = await db.transaction().execute(async (trx) => {
      const inserted = await insertTrustedIssuer(trx, {
        id: newRowId(),
        issuer: input.issuer,
        jwksUri: keySource.jwksUri,
        jwks: keySource.jwks,
        audiences: requireAudiences(input.audiences),
        userClaim: input.user_claim ?? 'sub',
      });

      await recordEvent(trx, audit, {
        kind: LedgerKind.trustedIssuerCreated,
        data: { trusted_issuer_id: inserted.id, issuer: inserted.issuer },
      });

      return inserted;
    });

    return trustedIssuerView(row);
  } catch (error) {
    if (error instanceof UniqueViolationError) {
      throw conflict(`issuer ${input.issuer} is already trusted`);
    }

    throw error;
  }
}

export async function requireTrustedIssuer(
  db: Kysely<Schema>,
  id: string,
): Promise<TrustedIssuerRow> {
  const row = isRowId(id) ? await findTrustedIssuerById(db, id) : undefined;

  if (row === undefined) {
    throw notFound('trusted issuer');
  }

  return row;
}

export async function listTrustedIssuerViews(db: Kysely<Schema>): Promise<TrustedIssuerView[]> {
  return (await listTrustedIssuers(db)).map(trustedIssuerView);
}

export interface TrustedIssuerUpdate {
  audiences?: string[] | undefined;
  user_claim?: string | undefined;
  jwks_uri?: string | undefined;
  jwks?: PublicJwks | undefined;
  status?: 'active' | 'disabled' | undefined;
}

export async function updateTrustedIssuerById(
  db: Kysely<Schema>,
  id: string,
  input: TrustedIssuerUpdate,
  audit: AuditContext,
): Promise<TrustedIssuerView> {
  const current = await requireTrustedIssuer(db, id);
  const changes: TrustedIssuerChanges = {};

  if (input.audiences !== undefined) changes.audiences = requireAudiences(input.audiences);
  if (input.user_claim !== undefined) changes.user_claim = input.user_claim;
  if (input.status !== undefined) changes.status = input.status;

  if (input.jwks_uri !== undefined || input.jwks !== undefined) {
    const keySource = await validateKeySource(input.jwks_uri, input.jwks);
    changes.jwks_uri = keySource.jwksUri;
    changes.jwks = keySource.jwks === null ? null : JSON.stringify(keySource.jwks);
  }

  return db.transaction().execute(async (trx) => {
    const row = await updateTrustedIssuer(trx, current.id, changes);

    if (row === undefined) {
      throw notFound('trusted issuer');
    }

    await recordEvent(trx, audit, {
      kind: LedgerKind.trustedIssuerUpdated,
      data: { trusted_issuer_id: row.id, issuer: row.issuer, changed: Object.keys(input).sort() },
    });

    return trustedIssuerView(row);
  });
}

function validateIssuer(issuer: string): void {
  const url = URL.parse(issuer);

  if (url === null || url.search !== '' || url.hash !== '') {
    throw invalidInput('invalid issuer', [
      { path: 'issuer', message: 'must be a URL without query or fragment' },
    ]);
  }
}

function requireAudiences(audiences: string[]): string[] {
  if (audiences.length === 0) {
    throw invalidInput('invalid audiences', [
      { path: 'audiences', message: 'name at least one audience the subject tokens are for' },
    ]);
  }

  return [...new Set(audiences)];
}

/**
 * Keys come from exactly one place: a JWKS URL (https, or http on loopback for development)
 * or a JWKS registered inline.
 */
async function validateKeySource(
  jwksUri: string | undefined,
  jwks: PublicJwks | undefined,
): Promise<{ jwksUri: string | null; jwks: Record<string, unknown> | null }> {
  if ((jwksUri === undefined) === (jwks === undefined)) {
    throw invalidInput('give either jwks_uri or jwks', [
      { path: 'jwks_uri', message: 'exactly one of jwks_uri and jwks is required' },
    ]);
  }

  if (jwks !== undefined) {
    return { jwksUri: null, jwks: { ...(await validatePublicJwks(jwks)) } };
  }

  const url = URL.parse(jwksUri ?? '');
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url?.hostname ?? '');

  if (url === null || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
    throw invalidInput('invalid jwks_uri', [
      { path: 'jwks_uri', message: 'must be an https URL (http only on loopback)' },
    ]);
  }

  return { jwksUri: url.href, jwks: null };
}
