import {
  createTrustedIssuer,
  LedgerKind,
  listTrustedIssuerViews,
  requireTrustedIssuer,
  trustedIssuerView,
  updateTrustedIssuerById,
  type TrustedIssuerInput,
  type TrustedIssuerUpdate,
} from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';

import { readJsonBody } from '../../http/body.js';
import {
  auditOf,
  logChange,
  pathParam,
  respond,
  type AdminContext,
  type AdminRouter,
} from '../context.js';
import { emptyAction, trustedIssuerCreate, trustedIssuerUpdate } from '../schemas.js';
import { bodyValidator, checkNoQuery } from '../validate.js';

type Handler = (ctx: AdminContext) => Promise<void>;

const parseCreate = bodyValidator<TrustedIssuerInput>(trustedIssuerCreate);
const parseUpdate = bodyValidator<TrustedIssuerUpdate>(trustedIssuerUpdate);
const parseAction = bodyValidator<Record<string, never>>(emptyAction);

const issuerPath = (id: string): string => `/v1/trusted-issuers/${encodeURIComponent(id)}`;

/** Identity providers whose JWTs agents may exchange: trust, list, read, change, disable. */
export function trustedIssuerRoutes(router: AdminRouter, db: Kysely<Schema>): void {
  router.post('/v1/trusted-issuers', create(db));
  router.get('/v1/trusted-issuers', list(db));
  router.get('/v1/trusted-issuers/:id', read(db));
  router.patch('/v1/trusted-issuers/:id', update(db));
  router.post('/v1/trusted-issuers/:id/disable', disable(db));
}

function create(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    const input = parseCreate(await readJsonBody(ctx));
    const issuer = await createTrustedIssuer(db, input, auditOf(ctx));

    logChange(ctx, LedgerKind.trustedIssuerCreated, {
      trustedIssuerId: issuer.id,
      issuer: issuer.issuer,
    });
    respond(ctx, 201, issuer, { location: issuerPath(issuer.id) });
  };
}

function list(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);

    // A deployment trusts a handful of issuers, so the list is one page; the shape matches.
    respond(ctx, 200, { items: await listTrustedIssuerViews(db), next_cursor: null });
  };
}

function read(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    respond(ctx, 200, trustedIssuerView(await requireTrustedIssuer(db, pathParam(ctx, 'id'))));
  };
}

function update(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    const input = parseUpdate(await readJsonBody(ctx));
    const issuer = await updateTrustedIssuerById(db, pathParam(ctx, 'id'), input, auditOf(ctx));

    logChange(ctx, LedgerKind.trustedIssuerUpdated, {
      trustedIssuerId: issuer.id,
      changed: Object.keys(input).sort().join(','),
    });
    respond(ctx, 200, issuer);
  };
}

function disable(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    parseAction(await readJsonBody(ctx, { emptyAsObject: true }));
    const id = pathParam(ctx, 'id');
    const issuer = await updateTrustedIssuerById(db, id, { status: 'disabled' }, auditOf(ctx));

    logChange(ctx, LedgerKind.trustedIssuerUpdated, {
      trustedIssuerId: issuer.id,
      changed: 'status',
    });
    respond(ctx, 200, issuer);
  };
}
