-- Security core: audit trail (hash chain), login throttling, password resets, TOTP, 2FA policy per CPTS,
-- and patients whose identity is stored encrypted (ciphertext and keyed blind index only).

CREATE TABLE audit_head (
    id    BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY NOT NULL,
    at           BIGINT NOT NULL,
    cpts_id      UUID,
    actor_id     UUID,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    detail       TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    ip           TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_by_cpts ON audit_log(cpts_id, seq);

CREATE TABLE login_throttle (
    key              TEXT PRIMARY KEY NOT NULL,
    failures         BIGINT NOT NULL,
    window_start     BIGINT NOT NULL,
    last_failure_at  BIGINT NOT NULL,
    locked_until     BIGINT NOT NULL
);

CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE login_challenges (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0
);

ALTER TABLE users ADD COLUMN totp_secret BYTEA;
ALTER TABLE users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE cpts ADD COLUMN mfa_required BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE patients (
    id           UUID PRIMARY KEY NOT NULL,
    cpts_id      UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    identity     BYTEA NOT NULL,
    key_id       TEXT NOT NULL,
    blind_index  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX patients_by_blind_index ON patients(cpts_id, blind_index);
CREATE INDEX patients_by_key ON patients(key_id);
