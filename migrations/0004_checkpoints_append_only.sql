-- Archive checkpoints are history too: they may be added (by the archive command), never changed.
CREATE TRIGGER ledger_checkpoints_no_update_delete
  BEFORE UPDATE OR DELETE ON ledger_checkpoints
  FOR EACH ROW EXECUTE FUNCTION ledger_events_refuse_change();

CREATE TRIGGER ledger_checkpoints_no_truncate
  BEFORE TRUNCATE ON ledger_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_refuse_change();
