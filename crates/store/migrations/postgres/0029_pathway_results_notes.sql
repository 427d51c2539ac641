-- What closes a step of a pathway beyond its day: the structured result of its instrument (answers, score,
-- band, positive domains), sealed at rest like an identity since it is health data; how the step came to be
-- (planned at inclusion, repeated after the previous occurrence, or created by another step's result).
-- The care team's notes on a patient, sealed too: free text that tells of health.
ALTER TABLE pathway_steps ADD COLUMN result BYTEA;
ALTER TABLE pathway_steps ADD COLUMN origin TEXT NOT NULL DEFAULT 'plan';
ALTER TABLE pathway_steps ADD COLUMN origin_step UUID;
ALTER TABLE pathway_steps ADD COLUMN result_positive BOOLEAN;
CREATE TABLE pathway_notes (
    id            UUID PRIMARY KEY NOT NULL,
    inclusion_id  UUID NOT NULL REFERENCES pathway_inclusions(id) ON DELETE CASCADE,
    author_id     UUID REFERENCES users(id) ON DELETE SET NULL,
    author_name   TEXT NOT NULL,
    body          BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX pathway_notes_by_inclusion ON pathway_notes(inclusion_id, created_at);
