-- Liaison sheets between town and hospital, on the step they close: which way it went and its day in clear
-- (the step's state), everything else sealed (health data).
CREATE TABLE pathway_liaison_sheets (
    id            BLOB PRIMARY KEY NOT NULL,
    inclusion_id  BLOB NOT NULL REFERENCES pathway_inclusions(id) ON DELETE CASCADE,
    step_id       BLOB NOT NULL REFERENCES pathway_steps(id) ON DELETE CASCADE,
    direction     TEXT NOT NULL CHECK (direction IN ('recue', 'envoyee')),
    dated_on      TEXT NOT NULL,
    body          BLOB NOT NULL,
    author_name   TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX pathway_liaison_sheets_by_inclusion ON pathway_liaison_sheets(inclusion_id, dated_on);
