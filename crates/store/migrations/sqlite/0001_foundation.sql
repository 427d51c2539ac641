-- Foundation: CPTS (tenants), accounts, roles per CPTS, sessions, jobs, locks, e-mail outbox.
-- Identifiers are UUIDs (BLOB here, UUID on PostgreSQL); instants are Unix milliseconds (UTC).

CREATE TABLE cpts (
    id          BLOB PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    finess      TEXT,
    siret       TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id                 BLOB PRIMARY KEY NOT NULL,
    email              TEXT NOT NULL UNIQUE,
    display_name       TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    is_platform_admin  BOOLEAN NOT NULL DEFAULT FALSE,
    disabled           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT NOT NULL
);

CREATE TABLE memberships (
    cpts_id     BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    user_id     BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('coordinator', 'secretary', 'member', 'partner')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (cpts_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships(user_id);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY NOT NULL,
    user_id       BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);

CREATE TABLE jobs (
    id            BLOB PRIMARY KEY NOT NULL,
    cpts_id       BLOB REFERENCES cpts(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    max_attempts  BIGINT NOT NULL,
    run_at        BIGINT NOT NULL,
    locked_by     TEXT,
    locked_until  BIGINT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT
);
CREATE INDEX jobs_ready ON jobs(status, run_at);

CREATE TABLE locks (
    name        TEXT PRIMARY KEY NOT NULL,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE outbox (
    id          BLOB PRIMARY KEY NOT NULL,
    cpts_id     BLOB REFERENCES cpts(id) ON DELETE CASCADE,
    job_id      BLOB,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX outbox_by_date ON outbox(created_at);
CREATE UNIQUE INDEX outbox_one_per_job ON outbox(job_id);
