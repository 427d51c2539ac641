-- Secrets that open machine access without a session: API tokens a coordinator issues to the SAS platform
-- (scope `fhir:read`) and the secret address of a professional's calendar feed (scope `ical`, with the
-- professional). Only a hash of the secret is kept; a revoked token stays listed for the record.
CREATE TABLE api_tokens (
    id               BLOB PRIMARY KEY NOT NULL,
    cpts_id          BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    scope            TEXT NOT NULL,
    professional_id  BLOB REFERENCES professionals(id) ON DELETE CASCADE,
    token_hash       TEXT NOT NULL UNIQUE,
    created_by       BLOB,
    created_at       BIGINT NOT NULL,
    revoked_at       BIGINT,
    last_used_at     BIGINT
);
CREATE INDEX api_tokens_by_cpts ON api_tokens(cpts_id, created_at);

-- The on-call rota (tableau d'astreinte): one professional per turn (e.g. Saturday 8:00–12:00).
CREATE TABLE snp_rota_turns (
    id               BLOB PRIMARY KEY NOT NULL,
    cpts_id          BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    label            TEXT NOT NULL,
    day              TEXT NOT NULL,
    start_minute     BIGINT NOT NULL,
    end_minute       BIGINT NOT NULL,
    professional_id  BLOB NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    created_by       BLOB,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (cpts_id, label, day)
);
CREATE INDEX snp_rota_by_day ON snp_rota_turns(cpts_id, day);
