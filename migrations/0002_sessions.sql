-- Task sessions, token exchange (RFC 8693) and the trusted identity providers it relies on.

-- Identity providers whose JWTs an agent may exchange for a session token.
CREATE TABLE trusted_issuers (
  id uuid PRIMARY KEY,
  issuer text NOT NULL UNIQUE,
  jwks_uri text,
  jwks jsonb,
  -- The subject token's aud must name one of these.
  audiences text[] NOT NULL,
  -- The claim that names the person (sub, email, ...).
  user_claim text NOT NULL DEFAULT 'sub',
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((jwks_uri IS NULL) <> (jwks IS NULL))
);

-- Who an agent may act for, and how long its sessions may last.
ALTER TABLE clients
  ADD COLUMN delegation jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN session_max_seconds integer NOT NULL DEFAULT 3600 CHECK (session_max_seconds > 0),
  ADD COLUMN session_idle_seconds integer CHECK (session_idle_seconds > 0);

-- A unit of work: every token belongs to one; closing it ends all of its tokens at once.
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  client_pk uuid NOT NULL REFERENCES clients (id),
  -- The person (or upstream agent) the agent acts for; NULL for the agent on its own behalf.
  subject text,
  subject_issuer text,
  tools text[] NOT NULL,
  audience text,
  -- RFC 8693 §4.1 act claim of the session's tokens (most recent actor outermost).
  actor_chain jsonb,
  -- The session whose token was exchanged to open this one; closing it closes this one too.
  parent_session_id uuid REFERENCES sessions (id),
  parent_token_id text,
  opened_at timestamptz NOT NULL DEFAULT now(),
  deadline timestamptz NOT NULL,
  idle_timeout_seconds integer,
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  close_reason text
);

CREATE INDEX sessions_client_idx ON sessions (client_pk, opened_at);
CREATE INDEX sessions_open_deadline_idx ON sessions (deadline) WHERE closed_at IS NULL;
CREATE INDEX sessions_parent_idx ON sessions (parent_session_id) WHERE parent_session_id IS NOT NULL;
CREATE INDEX sessions_parent_token_idx ON sessions (parent_token_id) WHERE parent_token_id IS NOT NULL;
CREATE INDEX sessions_subject_idx ON sessions (subject, opened_at) WHERE subject IS NOT NULL;
