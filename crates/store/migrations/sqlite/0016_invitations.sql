-- Invitations to a CPTS: the coordination (or the platform administrator, for a coordinator) invites someone by
-- e-mail; the link (only its SHA-256 here) works once, until it expires, and gives its role in the CPTS.
CREATE TABLE invitations (
    token_hash    TEXT PRIMARY KEY NOT NULL,
    id            BLOB NOT NULL UNIQUE,
    cpts_id       BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    invited_by    BLOB REFERENCES users(id) ON DELETE SET NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);
CREATE INDEX invitations_pending ON invitations(cpts_id, used_at, created_at);
