-- Tollgate core schema: OAuth clients (agents, resource servers, admins), their secrets,
-- issued access tokens, oidc-provider's other models, signing keys and the ledger.

CREATE TABLE clients (
  id uuid PRIMARY KEY,
  client_id text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('agent', 'resource_server', 'admin')),
  name text NOT NULL,
  owner text,
  description text,
  tools text[] NOT NULL DEFAULT '{}',
  audiences text[] NOT NULL DEFAULT '{}',
  -- A resource server's audience: the resource indicator whose tokens it may introspect.
  audience text UNIQUE,
  token_ttl_seconds integer NOT NULL CHECK (token_ttl_seconds > 0),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  auth_method text NOT NULL
    CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt')),
  jwks jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (kind <> 'resource_server' OR audience IS NOT NULL),
  CHECK (auth_method <> 'private_key_jwt' OR jwks IS NOT NULL)
);

CREATE INDEX clients_kind_created_idx ON clients (kind, created_at, id);

CREATE TABLE client_secrets (
  id text PRIMARY KEY,
  client_pk uuid NOT NULL REFERENCES clients (id),
  hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);

CREATE INDEX client_secrets_client_idx ON client_secrets (client_pk);

-- Access tokens are opaque; the row is keyed by a SHA-256 digest of the value, never the value.
CREATE TABLE access_tokens (
  token_id text PRIMARY KEY,
  client_pk uuid NOT NULL REFERENCES clients (id),
  session_id uuid,
  model text NOT NULL,
  audience text,
  scope text,
  payload jsonb NOT NULL,
  issued_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);

CREATE INDEX access_tokens_client_idx ON access_tokens (client_pk) WHERE revoked_at IS NULL;
CREATE INDEX access_tokens_session_idx ON access_tokens (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX access_tokens_expiry_idx ON access_tokens (expires_at);

-- Every other oidc-provider model (replay detection, grants, interactions, ...).
CREATE TABLE oidc_models (
  model text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  expires_at timestamptz,
  PRIMARY KEY (model, id)
);

CREATE INDEX oidc_models_expiry_idx ON oidc_models (expires_at);

CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  private_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A key is published from creation, signs from activation, and leaves JWKS once retired.
  activates_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);

CREATE TABLE server_secrets (
  name text PRIMARY KEY,
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  agent_id uuid,
  client_id text,
  token_id text,
  session_id uuid,
  subject text,
  actor text,
  request_id text,
  ip text,
  data jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX ledger_events_agent_idx ON ledger_events (agent_id, id);
CREATE INDEX ledger_events_session_idx ON ledger_events (session_id, id)
  WHERE session_id IS NOT NULL;
CREATE INDEX ledger_events_kind_idx ON ledger_events (kind, id);
CREATE INDEX ledger_events_at_idx ON ledger_events (at);

-- The ledger is append-only: the database itself refuses to change or remove history.
CREATE FUNCTION ledger_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER ledger_events_no_update_delete
  BEFORE UPDATE OR DELETE ON ledger_events
  FOR EACH ROW EXECUTE FUNCTION ledger_events_refuse_change();

CREATE TRIGGER ledger_events_no_truncate
  BEFORE TRUNCATE ON ledger_events
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_refuse_change();
