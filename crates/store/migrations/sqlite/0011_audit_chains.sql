-- One audit chain per CPTS, plus the platform's own chain: appends of one CPTS no longer queue behind every
-- other CPTS's, and an entry is written in the same transaction as the change it records.
-- `seq` stays a global order for listing (assigned by the database); `chain` and `chain_seq` are what the hash
-- links. Rows written before this migration get their chain position and hash when the store first opens
-- (`upgrade_legacy_audit`), after the old single chain has been verified; `audit_head` is kept for that check.

CREATE TABLE audit_log_chained (
    seq          INTEGER PRIMARY KEY NOT NULL,
    at           BIGINT NOT NULL,
    cpts_id      BLOB,
    actor_id     BLOB,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    detail       TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    ip           TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    chain        TEXT NOT NULL,
    chain_seq    BIGINT,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
INSERT INTO audit_log_chained (seq, at, cpts_id, actor_id, actor, action, target_kind, target_id, detail,
                               purpose, ip, request_id, chain, chain_seq, prev_hash, hash)
SELECT seq, at, cpts_id, actor_id, actor, action, target_kind, target_id, detail, purpose, ip, request_id,
       CASE WHEN cpts_id IS NULL THEN 'platform' ELSE lower(hex(cpts_id)) END, NULL, prev_hash, hash
FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_chained RENAME TO audit_log;
CREATE INDEX audit_by_cpts ON audit_log(cpts_id, seq);
CREATE UNIQUE INDEX audit_by_chain ON audit_log(chain, chain_seq);

CREATE TABLE audit_chains (
    chain  TEXT PRIMARY KEY NOT NULL,
    seq    BIGINT NOT NULL,
    hash   TEXT NOT NULL
);
