-- The coordination's choice to receive each morning, by e-mail, the answers the GPs gave to proposals since
-- the last digest; `last_sent_at` is claimed by one process at a time (several `maillage serve` share it).
CREATE TABLE answer_digests (
    cpts_id       UUID PRIMARY KEY NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    enabled       BOOLEAN NOT NULL,
    last_sent_at  BIGINT
);
