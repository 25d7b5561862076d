import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** A timestamp column: read as a Date, written as a Date or an ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;
/** A column with a database default: optional on insert. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export type ClientKind = 'agent' | 'resource_server' | 'admin';
export type ClientStatus = 'active' | 'disabled';
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A public JSON Web Key Set as registered for private_key_jwt. */
export interface PublicJwks {
  keys: Record<string, unknown>[];
}

export interface ClientsTable {
  id: string;
  client_id: string;
  kind: ClientKind;
  name: string;
  owner: ColumnType<string | null, string | null | undefined, string | null>;
  description: ColumnType<string | null, string | null | undefined, string | null>;
  tools: Defaulted<string[]>;
  audiences: Defaulted<string[]>;
  audience: ColumnType<string | null, string | null | undefined, string | null>;
  token_ttl_seconds: number;
  status: Defaulted<ClientStatus>;
  auth_method: ClientAuthMethod;
  jwks: Json<PublicJwks | null>;
  delegation: ColumnType<DelegationPolicy, string | undefined, string>;
  session_max_seconds: Defaulted<number>;
  session_idle_seconds: ColumnType<number | null, number | null | undefined, number | null>;
  budget: ColumnType<Budget, string | undefined, string>;
  tokens_valid_after: ColumnType<
    Date | null,
    Date | string | null | undefined,
    Date | string | null
  >;
  /** Moved by the database on every change that matters to a cached copy (migration 0006). */
  version: ColumnType<string, never, never>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/**
 * Spending limits. Day and month limits apply to an agent or an owner; session limits to each
 * session of the agent. Costs are in `currency` (reports in other currencies do not count).
 */
export interface Budget {
  daily_llm_tokens?: number;
  monthly_llm_tokens?: number;
  daily_cost?: number;
  monthly_cost?: number;
  session_llm_tokens?: number;
  session_cost?: number;
  currency?: string;
  /** Close the agent's open sessions when a limit is reached, not only refuse new tokens. */
  close_sessions?: boolean;
}

/** Whom an agent may act for through token exchange (RFC 8693). */
export interface DelegationPolicy {
  /** Issuers (registered trusted issuers, or Tollgate's own) whose subject tokens it accepts. */
  trusted_issuers?: string[];
  /** When present, only these people (by the issuer's user claim) may be acted for. */
  allowed_subjects?: string[];
}

export interface TrustedIssuersTable {
  id: string;
  issuer: string;
  jwks_uri: string | null;
  jwks: ColumnType<PublicJwks | null, string | null, string | null>;
  audiences: string[];
  user_claim: Defaulted<string>;
  status: Defaulted<ClientStatus>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** The RFC 8693 §4.1 `act` claim: the current actor, nesting the previous ones. */
export interface ActorClaim {
  sub: string;
  iss?: string;
  act?: ActorClaim;
}

type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

export interface SessionsTable {
  id: string;
  client_pk: string;
  subject: Nullable<string>;
  subject_issuer: Nullable<string>;
  tools: string[];
  audience: Nullable<string>;
  actor_chain: ColumnType<ActorClaim | null, string | null | undefined, string | null>;
  parent_session_id: Nullable<string>;
  parent_token_id: Nullable<string>;
  opened_at: CreatedAt;
  deadline: Timestamp;
  idle_timeout_seconds: Nullable<number>;
  last_activity_at: UpdatedAt;
  closed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  close_reason: Nullable<string>;
}

export interface UsageReportsTable {
  id: string;
  resource_server_pk: string;
  idempotency_key: string;
  request_hash: string;
  token_id: string;
  agent_pk: string;
  owner: string | null;
  session_id: string | null;
  subject: string | null;
  tool: string;
  model: string | null;
  input_tokens: ColumnType<string, number, number>;
  output_tokens: ColumnType<string, number, number>;
  calls: number;
  cost: ColumnType<string | null, string | null, string | null>;
  currency: string | null;
  occurred_at: Timestamp;
  received_at: CreatedAt;
}

export interface OwnerBudgetsTable {
  owner: string;
  budget: ColumnType<Budget, string, string>;
  updated_at: UpdatedAt;
}

export interface SpendCountersTable {
  scope: 'agent' | 'owner' | 'session';
  scope_id: string;
  period: 'day' | 'month' | 'session';
  period_start: Timestamp;
  currency: Defaulted<string>;
  llm_tokens: ColumnType<string, number | undefined, number>;
  cost: ColumnType<string, string | undefined, string>;
}

export interface BudgetStatesTable {
  scope: string;
  scope_id: string;
  budget: string;
  period_start: Timestamp;
  reached_at: CreatedAt;
  reset_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface LedgerChainTable {
  seq: string;
  event_id: string;
  prev_hash: string;
  hash: string;
  sealed_at: CreatedAt;
}

export interface LedgerCheckpointsTable {
  id: Generated<string>;
  seq: string;
  hash: string;
  archived_events: string;
  archive_digest: string;
  created_at: CreatedAt;
}

export interface ClientSecretsTable {
  id: string;
  client_pk: string;
  hash: string;
  created_at: CreatedAt;
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface AccessTokensTable {
  token_id: string;
  client_pk: string;
  session_id: string | null;
  model: string;
  audience: string | null;
  scope: string | null;
  payload: Json<Record<string, unknown>>;
  issued_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_reason: ColumnType<string | null, string | null | undefined, string | null>;
  stored_at: CreatedAt;
}

export interface OidcModelsTable {
  model: string;
  id: string;
  payload: Json<Record<string, unknown>>;
  expires_at: Timestamp | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk: Json<Record<string, unknown>>;
  created_at: CreatedAt;
  activates_at: Timestamp;
  retired_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface ServerSecretsTable {
  name: string;
  value: string;
  created_at: CreatedAt;
}

export interface LedgerEventsTable {
  id: Generated<string>;
  kind: string;
  at: Generated<Date>;
  agent_id: string | null;
  client_id: string | null;
  token_id: string | null;
  session_id: string | null;
  subject: string | null;
  actor: string | null;
  request_id: string | null;
  ip: string | null;
  data: Json<Record<string, unknown>>;
}

export interface SchemaMigrationsTable {
  name: string;
  checksum: string;
  applied_at: CreatedAt;
}

/** Every table Tollgate owns, as Kysely sees them. */
export interface Schema {
  clients: ClientsTable;
  client_secrets: ClientSecretsTable;
  access_tokens: AccessTokensTable;
  oidc_models: OidcModelsTable;
  signing_keys: SigningKeysTable;
  server_secrets: ServerSecretsTable;
  ledger_events: LedgerEventsTable;
  trusted_issuers: TrustedIssuersTable;
  sessions: SessionsTable;
  usage_reports: UsageReportsTable;
  owner_budgets: OwnerBudgetsTable;
  spend_counters: SpendCountersTable;
  budget_states: BudgetStatesTable;
  ledger_chain: LedgerChainTable;
  ledger_checkpoints: LedgerCheckpointsTable;
  schema_migrations: SchemaMigrationsTable;
}

export type ClientRow = Selectable<ClientsTable>;
export type NewClient = Insertable<ClientsTable>;
export type ClientUpdate = Updateable<ClientsTable>;
export type ClientSecretRow = Selectable<ClientSecretsTable>;
export type AccessTokenRow = Selectable<AccessTokensTable>;
export type NewAccessToken = Insertable<AccessTokensTable>;
export type LedgerEventRow = Selectable<LedgerEventsTable>;
export type NewLedgerEvent = Insertable<LedgerEventsTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;
export type TrustedIssuerRow = Selectable<TrustedIssuersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;
export type UsageReportRow = Selectable<UsageReportsTable>;
export type NewUsageReport = Insertable<UsageReportsTable>;
