-- Unscheduled care (soins non programmés): professionals' weekly patterns, the slots they publish (from a
-- pattern or one by one), and bookings. A slot has at most one live booking (held or confirmed): the partial
-- unique index makes that true whatever the number of people booking at once, on both engines.
CREATE TABLE snp_patterns (
    id               UUID PRIMARY KEY NOT NULL,
    cpts_id          UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    professional_id  UUID NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    weekday          BIGINT NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_minute     BIGINT NOT NULL,
    end_minute       BIGINT NOT NULL,
    slot_minutes     BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    modality         TEXT NOT NULL,
    place            TEXT NOT NULL DEFAULT '',
    valid_from       TEXT NOT NULL,
    valid_until      TEXT,
    exceptions       TEXT NOT NULL DEFAULT '',
    skip_holidays    BOOLEAN NOT NULL,
    created_by       UUID,
    created_at       BIGINT NOT NULL
);
CREATE INDEX snp_patterns_by_professional ON snp_patterns(cpts_id, professional_id);

CREATE TABLE snp_slots (
    id               UUID PRIMARY KEY NOT NULL,
    cpts_id          UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    professional_id  UUID NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    pattern_id       UUID REFERENCES snp_patterns(id) ON DELETE SET NULL,
    start_at         BIGINT NOT NULL,
    end_at           BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    modality         TEXT NOT NULL,
    place            TEXT NOT NULL DEFAULT '',
    -- Copied from the professional so that a search reads one table.
    profession_code  TEXT NOT NULL,
    commune_code     TEXT NOT NULL,
    cancelled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL,
    UNIQUE (professional_id, start_at)
);
CREATE INDEX snp_slots_by_start ON snp_slots(cpts_id, start_at);
CREATE INDEX snp_slots_by_profession ON snp_slots(cpts_id, profession_code, start_at);

CREATE TABLE snp_bookings (
    id               UUID PRIMARY KEY NOT NULL,
    cpts_id          UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    slot_id          UUID NOT NULL REFERENCES snp_slots(id) ON DELETE CASCADE,
    patient_id       UUID REFERENCES patients(id) ON DELETE SET NULL,
    status           TEXT NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired')),
    held_until       BIGINT NOT NULL,
    origin           TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    requested_at     BIGINT NOT NULL,
    booked_by        UUID,
    outcome          TEXT,
    outcome_at       BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX snp_bookings_one_live_per_slot ON snp_bookings(slot_id) WHERE status IN ('held', 'confirmed');
CREATE INDEX snp_bookings_by_cpts ON snp_bookings(cpts_id, created_at);
