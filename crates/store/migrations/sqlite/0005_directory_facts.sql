-- What the CPTS knows of its professionals beyond the national directory, the structures of the territory,
-- the national and départemental counts kept from the last import (for the diagnostic's comparisons), and
-- the imports started from the web with their progress (readable by every instance).
CREATE TABLE structures (
    id                     BLOB PRIMARY KEY NOT NULL,
    cpts_id                BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    -- FINESS of the establishment when it has one, else `siret:` + SIRET, else `cpts:` + id.
    natural_key            TEXT NOT NULL,
    finess                 TEXT NOT NULL,
    siret                  TEXT NOT NULL,
    name                   TEXT NOT NULL,
    kind                   TEXT NOT NULL,
    finess_category        TEXT NOT NULL,
    address                TEXT NOT NULL,
    postal_code            TEXT NOT NULL,
    commune_code           TEXT NOT NULL,
    phone                  TEXT NOT NULL,
    email                  TEXT NOT NULL,
    services               TEXT NOT NULL DEFAULT '',
    specifics              TEXT NOT NULL DEFAULT '',
    contact_name           TEXT NOT NULL DEFAULT '',
    contact_phone          TEXT NOT NULL DEFAULT '',
    contact_email          TEXT NOT NULL DEFAULT '',
    partner_status         TEXT NOT NULL DEFAULT 'none' CHECK (partner_status IN ('none', 'contact', 'partner', 'member')),
    agreement_signed_on    TEXT,
    agreement_ends_on      TEXT,
    search_text            TEXT NOT NULL,
    content_hash           TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    UNIQUE (cpts_id, natural_key)
);
CREATE INDEX structures_by_name ON structures(cpts_id, name);

ALTER TABLE professionals ADD COLUMN accepts_new_patients BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE professionals ADD COLUMN new_patient_capacity BIGINT;
ALTER TABLE professionals ADD COLUMN snp_volunteer BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE professionals ADD COLUMN sas_effector BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE professionals ADD COLUMN internship_supervisor BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE professionals ADD COLUMN ipa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE professionals ADD COLUMN asalee BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE professionals ADD COLUMN crisis_skills TEXT NOT NULL DEFAULT '';
ALTER TABLE professionals ADD COLUMN languages TEXT NOT NULL DEFAULT '';
ALTER TABLE professionals ADD COLUMN birth_year BIGINT;
ALTER TABLE professionals ADD COLUMN mssante TEXT NOT NULL DEFAULT '';
ALTER TABLE professionals ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE professionals ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';
ALTER TABLE professionals ADD COLUMN structure_id BLOB REFERENCES structures(id) ON DELETE SET NULL;
-- General practitioner (médecine générale), decided at import from the savoir-faire.
ALTER TABLE professionals ADD COLUMN general_practitioner BOOLEAN NOT NULL DEFAULT FALSE;
-- Folded words of the CPTS's own facts (skills, languages, structure), searched with `search_text`.
ALTER TABLE professionals ADD COLUMN facts_text TEXT NOT NULL DEFAULT '';
ALTER TABLE professionals ADD COLUMN facts_updated_at BIGINT;
CREATE INDEX professionals_by_visibility ON professionals(cpts_id, visibility);

-- Professionals counted in the last national extract imported, per area (`FR` or a département code) and
-- category (a profession code, or `MG` for general practitioners).
CREATE TABLE directory_reference (
    cpts_id        BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    area           TEXT NOT NULL,
    category       TEXT NOT NULL,
    professionals  BIGINT NOT NULL,
    counted_at     BIGINT NOT NULL,
    PRIMARY KEY (cpts_id, area, category)
);

CREATE TABLE imports (
    id            BLOB PRIMARY KEY NOT NULL,
    cpts_id       BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    bytes_total   BIGINT NOT NULL,
    bytes_done    BIGINT NOT NULL,
    report        TEXT,
    error         TEXT,
    started_by    BLOB,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL,
    finished_at   BIGINT
);
CREATE INDEX imports_by_cpts ON imports(cpts_id, started_at);

-- Words of each professional's searchable text (names, profession, places, communes, the CPTS's facts,
-- identifier), so that a search finds word prefixes through an index instead of scanning every row.
CREATE TABLE professional_words (
    cpts_id          BLOB NOT NULL,
    word             TEXT NOT NULL,
    professional_id  BLOB NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    PRIMARY KEY (cpts_id, word, professional_id)
) WITHOUT ROWID;
CREATE INDEX professional_words_by_professional ON professional_words(professional_id);
CREATE INDEX practice_places_by_commune_professional ON practice_places(commune_code, professional_id);
