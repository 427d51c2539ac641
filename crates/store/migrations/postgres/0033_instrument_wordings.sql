-- The licensed wording of an instrument's items, loaded by a CPTS that holds the licence (Zarit): shown in
-- its forms instead of Maillage's short labels; another CPTS keeps the short labels.
CREATE TABLE instrument_wordings (
    cpts_id     UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    instrument  TEXT NOT NULL,
    item_code   TEXT NOT NULL,
    wording     TEXT NOT NULL,
    loaded_at   BIGINT NOT NULL,
    PRIMARY KEY (cpts_id, instrument, item_code)
);
