import {
  consumeModel,
  deleteModel,
  deleteModelsByGrant,
  findModel,
  upsertModel,
  type ClientWithSecrets,
  type Database,
  type Kysely,
  type LedgerEventInput,
  type LiveToken,
  type LiveTokenReader,
  type ReplayWriter,
  type Schema,
  type TokenIssue,
  type TokenIssueWriter,
} from '@tollgate/db';
import { LedgerKind, revokeToken, tokenIdOf } from '@tollgate/core';
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';

import type { ClientDirectory } from './client-directory.js';
import { clientMetadata } from './client-metadata.js';
import {
  currentRequestState,
  lookupOncePerRequest,
  noteAuthFailure,
  plannedIssuance,
  rememberedClient,
  type IssuancePlan,
} from './request-state.js';

/** Client ids are ours (`agt_…`); anything with control characters or overlong never matches. */
const PLAUSIBLE_CLIENT_ID = /^[\x21-\x7e]{1,200}$/;

/** oidc-provider models that are access tokens: stored hashed, with a ledger event each. */
const TOKEN_MODELS = new Set(['AccessToken', 'ClientCredentials']);

/**
 * Builds oidc-provider's storage adapter over Postgres. Clients come from the `clients` table,
 * access tokens from `access_tokens` (keyed by a digest of their value, stored through the
 * process's one issue writer), client-assertion replay records are inserted atomically
 * (batched likewise, through its one replay writer), and every other model is a JSON row.
 */
export function createAdapterFactory(deps: AdapterDeps): (name: string) => Adapter {
  const { database, directory } = deps;
  const { db } = database;

  return (name) => {
    if (name === 'Client') return new ClientAdapter(db, directory);
    if (TOKEN_MODELS.has(name)) return new AccessTokenAdapter(database, name, deps);
    if (name === 'ReplayDetection') return new ReplayDetectionAdapter(db, name, deps.replayWriter);

    return new ModelAdapter(db, name);
  };
}

export interface AdapterDeps {
  database: Database;
  /** Where client rows come from (memory where the endpoint confirms it, else the database). */
  directory: ClientDirectory;
  /** Stores issued tokens, batching those of concurrent requests (one writer per process). */
  issueWriter: TokenIssueWriter;
  /** Looks tokens up, sharing round trips between concurrent requests (one per process). */
  tokenReader: LiveTokenReader;
  /** Stores client-assertion jtis once, batching those of concurrent requests (one per process). */
  replayWriter: ReplayWriter;
}

/** Shared behaviour of the JSON-row models; subclasses override what they store differently. */
class ModelAdapter implements Adapter {
  constructor(
    protected readonly db: Kysely<Schema>,
    protected readonly model: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    await upsertModel(this.db, this.model, id, { ...payload }, expiryDate(expiresIn));
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return findModel(this.db, this.model, id);
  }

  async findByUserCode(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async findByUid(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    await consumeModel(this.db, this.model, id);
  }

  async destroy(id: string): Promise<void> {
    await deleteModel(this.db, this.model, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await deleteModelsByGrant(this.db, this.model, grantId);
  }
}

class ClientAdapter extends ModelAdapter {
  constructor(
    db: Kysely<Schema>,
    private readonly directory: ClientDirectory,
  ) {
    super(db, 'Client');
  }

  override async upsert(): Promise<void> {
    throw new Error('clients are managed through the management API');
  }

  /** Disabled clients do not exist for oidc-provider: every use of them fails as unknown. */
  override async find(clientId: string): Promise<AdapterPayload | undefined> {
    if (!PLAUSIBLE_CLIENT_ID.test(clientId)) {
      noteAuthFailure('unknown_client');
      return undefined;
    }

    // Remembered for the request even when disabled, so that the failed attempt is recorded
    // under its agent.
    const row = await this.directory.find(clientId);

    if (row === undefined) {
      noteAuthFailure('unknown_client');
      return undefined;
    }

    if (row.status !== 'active') {
      noteAuthFailure('client_disabled');
      return undefined;
    }

    return clientMetadata(row);
  }
}

class ReplayDetectionAdapter extends ModelAdapter {
  constructor(
    db: Kysely<Schema>,
    model: string,
    private readonly replayWriter: ReplayWriter,
  ) {
    super(db, model);
  }

  /** The insert in upsert decides alone (one statement, race-free); no lookup first. */
  override async find(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  /**
   * oidc-provider looks a jti up before it saves it; two instances can both miss. The insert
   * itself is therefore the arbiter: the loser of a race is refused like any replay.
   */
  override async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const isNew = await this.replayWriter.insertOnce(
      this.model,
      id,
      { ...payload },
      expiryDate(expiresIn),
    );

    if (!isNew) {
      noteAuthFailure('assertion_replayed');
      throw new errors.InvalidClientAuth('client assertion tokens must only be used once');
    }
  }
}

class AccessTokenAdapter extends ModelAdapter {
  readonly #directory: ClientDirectory;
  readonly #issueWriter: TokenIssueWriter;
  readonly #tokenReader: LiveTokenReader;

  constructor(database: Database, model: string, deps: AdapterDeps) {
    super(database.db, model);
    this.#directory = deps.directory;
    this.#issueWriter = deps.issueWriter;
    this.#tokenReader = deps.tokenReader;
  }

  /**
   * Stores the token with those of concurrent requests (one statement, one commit), and only
   * if the client row it was issued from is still current: a token must not outlive, unseen, a
   * change that would have refused it.
   */
  override async upsert(value: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const client = await this.#issuingClient(String(payload.clientId));
    const plan = plannedIssuance();
    const tokenId = tokenIdOf(value);
    const expiresAt = expiryDate(expiresIn) ?? new Date();
    const { jti: _value, ...stored } = payload;
    const token = {
      tokenId,
      clientPk: client.id,
      sessionId: plan?.sessionId ?? null,
      model: this.model,
      audience: stringOrNull(payload.aud),
      scope: stringOrNull(payload.scope),
      payload: stored,
      issuedAt: new Date((payload.iat ?? Math.floor(Date.now() / 1000)) * 1000),
      expiresAt,
    };

    const issue = {
      token,
      openSession: plan?.openSession,
      renewSessionId: plan?.renewal === true ? plan.sessionId : undefined,
      events: issuanceEvents(client, token, payload, plan),
    };

    let outcome = await this.#write(issue, client);

    if (outcome === 'client_changed') {
      // The client changed since its row was read; what the token relied on did not (or
      // reconfirm refuses), so store it against the new version. Twice in a row is refused.
      outcome = await this.#write(issue, await this.#directory.reconfirm(client));

      if (outcome === 'client_changed') {
        throw new errors.InvalidClientAuth('the client is changing; retry');
      }
    }

    if (outcome === 'parent_inactive') {
      // The subject token (or its session) was revoked or closed while this exchange ran.
      throw new errors.InvalidRequest('subject_token is no longer active');
    }
  }

  #write(issue: Omit<TokenIssue, 'clientVersion'>, client: ClientWithSecrets) {
    return this.#issueWriter.write({ ...issue, clientVersion: client.version });
  }

  /**
   * The value is never stored; the presented value is put back as jti for oidc-provider. Both
   * token models live in one table and oidc-provider asks each in turn for the same value, so
   * one lookup per request serves both.
   */
  override async find(value: string): Promise<AdapterPayload | undefined> {
    const row = await lookupOncePerRequest(value, () => this.#lookUp(value));

    if (row === undefined || row.model !== this.model) {
      return undefined;
    }

    return { ...row.payload, jti: value };
  }

  /** Revocation (RFC 7009), cascading to the sessions opened by exchanging this token. */
  override async destroy(value: string): Promise<void> {
    const state = currentRequestState();
    const caller = Provider.ctx?.oidc?.client?.clientId ?? null;
    const callerRow = caller === null ? undefined : rememberedClient(caller);
    const tokenId = tokenIdOf(value);
    const audit = { actor: caller, requestId: state?.requestId ?? null, ip: state?.ip ?? null };

    await revokeToken(this.db, tokenId, audit, {
      ...audit,
      kind: LedgerKind.tokenRevoked,
      agentId: callerRow?.kind === 'agent' ? callerRow.id : null,
      clientId: caller,
      data: { reason: 'revoked_by_client' },
    });
  }

  /**
   * One round trip: the token, and whether the authenticated caller's row, if it came from
   * memory, is still current (otherwise the caller is re-checked before anything is answered).
   */
  async #lookUp(value: string): Promise<LiveToken | undefined> {
    const callerId = Provider.ctx?.oidc?.client?.clientId;
    const caller = callerId === undefined ? undefined : rememberedClient(callerId);
    const confirm = caller === undefined ? undefined : this.#directory.confirmationFor(caller);
    const lookup = await this.#tokenReader.lookUp(tokenIdOf(value), confirm);

    if (caller !== undefined && !lookup.clientCurrent) {
      await this.#directory.reconfirm(caller);
    }

    return lookup.token;
  }

  async #issuingClient(clientId: string): Promise<ClientWithSecrets> {
    const row = await this.#directory.find(clientId);

    if (row === undefined) {
      throw new Error('token issued to a client that does not exist');
    }

    return row;
  }
}

function expiryDate(expiresIn: number | undefined): Date | null {
  return typeof expiresIn === 'number' && expiresIn > 0
    ? new Date(Date.now() + expiresIn * 1000)
    : null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

type StoredToken = TokenIssue['token'];

/** The ledger events of one issue: the token's own, and its session's opening or renewal. */
function issuanceEvents(
  client: ClientWithSecrets,
  token: StoredToken,
  payload: AdapterPayload,
  plan: IssuancePlan | undefined,
): LedgerEventInput[] {
  const state = currentRequestState();
  const common = {
    agentId: client.kind === 'agent' ? client.id : null,
    clientId: client.client_id,
    sessionId: token.sessionId,
    subject: plan?.subject ?? null,
    actor: client.client_id,
    requestId: state?.requestId ?? null,
    ip: state?.ip ?? null,
  };
  const tools = token.scope === null ? [] : token.scope.split(' ');
  const tokenEvent: LedgerEventInput = {
    ...common,
    kind: plan?.eventKind ?? LedgerKind.tokenIssued,
    tokenId: token.tokenId,
    data: {
      grant_type: Provider.ctx?.oidc?.params?.grant_type ?? null,
      tools,
      audience: token.audience,
      expires_at: token.expiresAt.toISOString(),
      ...plan?.eventData,
    },
  };

  if (plan === undefined) {
    return [tokenEvent];
  }

  const sessionEvent: LedgerEventInput = {
    ...common,
    kind: plan.renewal ? LedgerKind.sessionRenewed : LedgerKind.sessionOpened,
    tokenId: token.tokenId,
    data: plan.renewal
      ? { tools }
      : {
          tools: plan.openSession?.tools ?? tools,
          audience: plan.openSession?.audience ?? token.audience,
          deadline: new Date(plan.openSession?.deadline ?? token.expiresAt).toISOString(),
          subject_issuer: plan.openSession?.subject_issuer ?? null,
          parent_session_id: plan.openSession?.parent_session_id ?? null,
        },
  };

  return [sessionEvent, tokenEvent];
}
