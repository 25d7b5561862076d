-- Spend attribution: usage reports from resource servers, spend counters for budgets, and a
-- hash chain that makes the ledger tamper-evident.

CREATE TABLE usage_reports (
  id uuid PRIMARY KEY,
  resource_server_pk uuid NOT NULL REFERENCES clients (id),
  idempotency_key text NOT NULL,
  -- Digest of the report's content, to tell a replay from a different report under one key.
  request_hash text NOT NULL,
  token_id text NOT NULL,
  agent_pk uuid NOT NULL REFERENCES clients (id),
  -- The agent's owner when the usage was reported: chargeback follows who was accountable then.
  owner text,
  session_id uuid,
  subject text,
  tool text NOT NULL,
  model text,
  input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
  output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
  calls integer NOT NULL CHECK (calls >= 0),
  cost numeric(20, 6) CHECK (cost >= 0),
  currency text CHECK (currency ~ '^[A-Z]{3}$'),
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (resource_server_pk, idempotency_key),
  CHECK ((cost IS NULL) = (currency IS NULL))
);

CREATE INDEX usage_reports_agent_idx ON usage_reports (agent_pk, occurred_at);
CREATE INDEX usage_reports_session_idx ON usage_reports (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX usage_reports_occurred_idx ON usage_reports (occurred_at);

-- Budgets: limits on the agent record, and per owner.
ALTER TABLE clients ADD COLUMN budget jsonb NOT NULL DEFAULT '{}';

CREATE TABLE owner_budgets (
  owner text PRIMARY KEY,
  budget jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Running totals per budget scope and period, kept in step with usage_reports, so that a budget
-- check at the token endpoint is one indexed read.
CREATE TABLE spend_counters (
  scope text NOT NULL CHECK (scope IN ('agent', 'owner', 'session')),
  scope_id text NOT NULL,
  period text NOT NULL CHECK (period IN ('day', 'month', 'session')),
  period_start timestamptz NOT NULL,
  currency text NOT NULL DEFAULT '',
  llm_tokens bigint NOT NULL DEFAULT 0,
  cost numeric(20, 6) NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, scope_id, period, period_start, currency)
);

-- Which budgets were reached in which period, so reached and reset are each recorded once.
CREATE TABLE budget_states (
  scope text NOT NULL,
  scope_id text NOT NULL,
  budget text NOT NULL,
  period_start timestamptz NOT NULL,
  reached_at timestamptz NOT NULL DEFAULT now(),
  reset_at timestamptz,
  PRIMARY KEY (scope, scope_id, budget, period_start)
);

-- The ledger's hash chain: one link per event, in the order a single sealer saw them commit.
-- hash = SHA-256(prev_hash || canonical event). Inserting events never waits for the chain.
CREATE TABLE ledger_chain (
  seq bigint PRIMARY KEY,
  event_id bigint NOT NULL UNIQUE,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  sealed_at timestamptz NOT NULL DEFAULT now()
);

-- Where verification of the remaining chain starts after old events were archived.
CREATE TABLE ledger_checkpoints (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  seq bigint NOT NULL,
  hash text NOT NULL,
  archived_events bigint NOT NULL,
  archive_digest text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER ledger_chain_no_update_delete
  BEFORE UPDATE OR DELETE ON ledger_chain
  FOR EACH ROW EXECUTE FUNCTION ledger_events_refuse_change();

CREATE TRIGGER ledger_chain_no_truncate
  BEFORE TRUNCATE ON ledger_chain
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_refuse_change();

-- History may leave only through the archive command, which exports it with its chain proof
-- first and records a checkpoint in the same transaction; nothing may ever be changed.
CREATE OR REPLACE FUNCTION ledger_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('tollgate.ledger_archive', true) = 'on' THEN
    RETURN OLD;
  END IF;

  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
