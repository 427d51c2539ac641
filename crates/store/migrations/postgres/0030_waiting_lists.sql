-- Waiting lists for scarce resources (TND assessments, CMP, CAMSP): the CPTS's lists, and on each the patients
-- of its pathways with the day they were referred, their priority, and when and why they left the list.
CREATE TABLE waiting_lists (
    id          UUID PRIMARY KEY NOT NULL,
    cpts_id     UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX waiting_lists_by_name ON waiting_lists(cpts_id, name);
CREATE TABLE waiting_entries (
    id            UUID PRIMARY KEY NOT NULL,
    list_id       UUID NOT NULL REFERENCES waiting_lists(id) ON DELETE CASCADE,
    inclusion_id  UUID NOT NULL REFERENCES pathway_inclusions(id) ON DELETE CASCADE,
    referred_on   TEXT NOT NULL,
    priority      TEXT NOT NULL CHECK (priority IN ('urgente', 'haute', 'normale')),
    exited_on     TEXT,
    exit_reason   TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX waiting_entries_by_list ON waiting_entries(list_id, exited_on);
CREATE INDEX waiting_entries_by_inclusion ON waiting_entries(inclusion_id);
