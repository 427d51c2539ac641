-- Patients included in a care pathway: the patient (identity sealed, in patients), the template version they keep,
-- the inclusion and event days (Paris dates, YYYY-MM-DD), who recorded the consent; their care team (directory
-- professionals with a role); their steps with the window computed at inclusion and what happened to each.
CREATE TABLE pathway_inclusions (
    id                  UUID PRIMARY KEY NOT NULL,
    cpts_id             UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    patient_id          UUID NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    template_code       TEXT NOT NULL,
    template_version    BIGINT NOT NULL,
    included_on         TEXT NOT NULL,
    event_on            TEXT,
    consent_recorded_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX pathway_inclusions_by_cpts ON pathway_inclusions(cpts_id, included_on);
CREATE TABLE pathway_team (
    inclusion_id     UUID NOT NULL REFERENCES pathway_inclusions(id) ON DELETE CASCADE,
    professional_id  UUID NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    PRIMARY KEY (inclusion_id, professional_id, role)
);
CREATE INDEX pathway_team_by_professional ON pathway_team(professional_id);
CREATE TABLE pathway_steps (
    id                UUID PRIMARY KEY NOT NULL,
    inclusion_id      UUID NOT NULL REFERENCES pathway_inclusions(id) ON DELETE CASCADE,
    position          BIGINT NOT NULL,
    code              TEXT NOT NULL,
    label             TEXT NOT NULL,
    owner_role        TEXT NOT NULL,
    earliest          TEXT NOT NULL,
    latest            TEXT NOT NULL,
    done_on           TEXT,
    cancelled_reason  TEXT,
    last_alert_on     TEXT
);
CREATE INDEX pathway_steps_by_inclusion ON pathway_steps(inclusion_id, position);
