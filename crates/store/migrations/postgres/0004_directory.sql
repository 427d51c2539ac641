-- Directory of the professionals practising on a CPTS's territory, imported from the national directory's
-- public extract (or entered by the CPTS), with their practice places.
CREATE TABLE professionals (
    id                UUID PRIMARY KEY NOT NULL,
    cpts_id           UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    national_id       TEXT NOT NULL,
    id_kind           TEXT NOT NULL,
    identifier        TEXT NOT NULL,
    checksum_ok       BOOLEAN NOT NULL,
    civility          TEXT NOT NULL,
    last_name         TEXT NOT NULL,
    first_name        TEXT NOT NULL,
    profession_code   TEXT NOT NULL,
    profession_label  TEXT NOT NULL,
    specialty         TEXT NOT NULL,
    practice_mode     TEXT NOT NULL,
    member            BOOLEAN NOT NULL DEFAULT FALSE,
    visibility        TEXT NOT NULL DEFAULT 'members' CHECK (visibility IN ('public', 'members', 'private')),
    search_text       TEXT NOT NULL,
    content_hash      TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (cpts_id, national_id)
);
CREATE INDEX professionals_by_name ON professionals(cpts_id, last_name, first_name);
CREATE INDEX professionals_by_profession ON professionals(cpts_id, profession_code);

CREATE TABLE practice_places (
    professional_id  UUID NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    position         BIGINT NOT NULL,
    structure_name   TEXT NOT NULL,
    siret            TEXT NOT NULL,
    finess           TEXT NOT NULL,
    address          TEXT NOT NULL,
    postal_code      TEXT NOT NULL,
    commune_code     TEXT NOT NULL,
    phone            TEXT NOT NULL,
    email            TEXT NOT NULL,
    PRIMARY KEY (professional_id, position)
);
CREATE INDEX practice_places_by_commune ON practice_places(commune_code);
