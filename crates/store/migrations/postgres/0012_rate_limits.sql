-- Rate limits of anonymous or repeated actions (public forms, second-factor codes, reset requests), apart from
-- the login counter. One row per limited key and window; the key is stored as its SHA-256 (it may hold an IP
-- address or an e-mail). Rows of windows long past are purged by the minute's upkeep.
CREATE TABLE rate_limits (
    key_hash      TEXT PRIMARY KEY NOT NULL,
    window_start  BIGINT NOT NULL,
    hits          BIGINT NOT NULL
);
CREATE INDEX rate_limits_by_window ON rate_limits(window_start);
