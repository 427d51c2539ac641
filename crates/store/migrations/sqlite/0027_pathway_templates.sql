-- Care pathway templates of a CPTS, one row per version (a patient keeps the version they were included with):
-- the template itself as its JSON exchange format (checked by the domain before it is written), who wrote the
-- version and when. No patient data.
CREATE TABLE pathway_templates (
    cpts_id     BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    version     BIGINT NOT NULL CHECK (version >= 1),
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_by  BLOB REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (cpts_id, code, version)
);
