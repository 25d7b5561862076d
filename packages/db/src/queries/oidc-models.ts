import { sql, type Kysely } from 'kysely';

import type { Schema } from '../schema.js';

/** Stores (or replaces) one oidc-provider model instance. */
export async function upsertModel(
  db: Kysely<Schema>,
  model: string,
  id: string,
  payload: Record<string, unknown>,
  expiresAt: Date | null,
): Promise<void> {
  const json = JSON.stringify(payload);

  await db
    .insertInto('oidc_models')
    .values({ model, id, payload: json, expires_at: expiresAt })
    .onConflict((oc) =>
      oc.columns(['model', 'id']).doUpdateSet({ payload: json, expires_at: expiresAt }),
    )
    .execute();
}

export async function findModel(
  db: Kysely<Schema>,
  model: string,
  id: string,
): Promise<Record<string, unknown> | undefined> {
  const row = await db
    .selectFrom('oidc_models')
    .select('payload')
    .where('model', '=', model)
    .where('id', '=', id)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .executeTakeFirst();

  return row?.payload;
}

export async function deleteModel(db: Kysely<Schema>, model: string, id: string): Promise<void> {
  await db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).execute();
}

/** Deletes the models of one grant (oidc-provider's revokeByGrantId). */
export async function deleteModelsByGrant(
  db: Kysely<Schema>,
  model: string,
  grantId: string,
): Promise<void> {
  await db
    .deleteFrom('oidc_models')
    .where('model', '=', model)
    .where(sql<boolean>`payload->>'grantId' = ${grantId}`)
    .execute();
}

export async function consumeModel(db: Kysely<Schema>, model: string, id: string): Promise<void> {
  await db
    .updateTable('oidc_models')
    .set({
      payload: sql<string>`
        payload || jsonb_build_object('consumed', extract(epoch from now())::int)`,
    })
    .where('model', '=', model)
    .where('id', '=', id)
    .execute();
}

export async function deleteExpiredModels(db: Kysely<Schema>): Promise<number> {
  const result = await db
    .deleteFrom('oidc_models')
    .where('expires_at', '<', sql<Date>`now()`)
    .executeTakeFirst();

  return Number(result.numDeletedRows);
}
