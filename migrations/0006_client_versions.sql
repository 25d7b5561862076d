-- Instances keep client rows in memory so that the token endpoint need not read them on every
-- request. Every change that can alter how a client authenticates or what it may be issued moves
-- the client's version: a row is only trusted while the version it was read at is still current,
-- and a token is only stored if its client's version has not moved since (checked in the very
-- statement that stores it). The change is also announced on a channel, so that every instance
-- drops the stale row at once instead of finding out at its next write.
ALTER TABLE clients ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION tollgate_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  PERFORM pg_notify('tollgate_client_changed', NEW.client_id);
  RETURN NEW;
END;
$$;

CREATE TRIGGER clients_version BEFORE UPDATE ON clients
  FOR EACH ROW EXECUTE FUNCTION tollgate_client_changed();

-- Adding, revoking or expiring a secret changes how its client authenticates.
CREATE FUNCTION tollgate_client_secret_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE clients SET version = version + 1
  WHERE id IN (NEW.client_pk, OLD.client_pk);
  RETURN NULL;
END;
$$;

CREATE TRIGGER client_secrets_version AFTER INSERT OR UPDATE OR DELETE ON client_secrets
  FOR EACH ROW EXECUTE FUNCTION tollgate_client_secret_changed();

-- An owner's budget is read with each of the owner's clients.
CREATE FUNCTION tollgate_owner_budget_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE clients SET version = version + 1
  WHERE owner IN (NEW.owner, OLD.owner);
  RETURN NULL;
END;
$$;

CREATE TRIGGER owner_budgets_version AFTER INSERT OR UPDATE OR DELETE ON owner_budgets
  FOR EACH ROW EXECUTE FUNCTION tollgate_owner_budget_changed();
