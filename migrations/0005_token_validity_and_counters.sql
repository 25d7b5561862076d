-- Re-enabling an agent must not revive a token that raced its disablement: tokens stored before
-- the agent was last enabled never count again. stored_at is the database's own clock.
ALTER TABLE access_tokens ADD COLUMN stored_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE clients ADD COLUMN tokens_valid_after timestamptz;

-- Running totals add up many reports; they must not overflow where one report fits.
ALTER TABLE spend_counters ALTER COLUMN cost TYPE numeric;
