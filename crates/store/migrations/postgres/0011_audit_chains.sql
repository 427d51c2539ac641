-- One audit chain per CPTS, plus the platform's own chain: appends of one CPTS no longer queue behind every
-- other CPTS's, and an entry is written in the same transaction as the change it records.
-- `seq` stays a global order for listing (assigned by the database); `chain` and `chain_seq` are what the hash
-- links. Rows written before this migration get their chain position and hash when the store first opens
-- (`upgrade_legacy_audit`), after the old single chain has been verified; `audit_head` is kept for that check.

ALTER TABLE audit_log ADD COLUMN chain TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN chain_seq BIGINT;
UPDATE audit_log
SET chain = CASE WHEN cpts_id IS NULL THEN 'platform' ELSE replace(cpts_id::text, '-', '') END;
ALTER TABLE audit_log ALTER COLUMN chain DROP DEFAULT;
CREATE SEQUENCE audit_log_seq OWNED BY audit_log.seq;
SELECT setval('audit_log_seq', COALESCE((SELECT MAX(seq) FROM audit_log), 0) + 1, false);
ALTER TABLE audit_log ALTER COLUMN seq SET DEFAULT nextval('audit_log_seq');
CREATE UNIQUE INDEX audit_by_chain ON audit_log(chain, chain_seq);

CREATE TABLE audit_chains (
    chain  TEXT PRIMARY KEY NOT NULL,
    seq    BIGINT NOT NULL,
    hash   TEXT NOT NULL
);
