-- Recovery codes of the second factor: single use, only their SHA-256 (salted with the account) is kept.
CREATE TABLE recovery_codes (
    user_id     BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Browsers that completed a login for an account (cookie token, only its SHA-256 here): a lock triggered from
-- elsewhere does not keep the account's own devices out.
CREATE TABLE known_devices (
    token_hash    TEXT PRIMARY KEY NOT NULL,
    user_id       BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL
);
CREATE INDEX known_devices_by_user ON known_devices(user_id, last_used_at);

-- Throttle keys may name an e-mail address or an IP address: from now on they are stored as hashes. Old rows
-- (plain keys) would never be read again.
DELETE FROM login_throttle;
