-- Search of requests and bookings by a patient's name, birth date or phone, without weakening the sealing of
-- identities: each patient row has a few terms, each a keyed HMAC (security.blind_index_key, scoped by CPTS)
-- of one normalised word — a name part, the birth date, the phone's ten digits. A search computes the same
-- HMACs of what was typed and matches them exactly: the database holds no name, date or number, and a term
-- cannot be reversed without the key. Rows written before this table are indexed by the hourly upkeep.
CREATE TABLE patient_search_terms (
    patient_id  UUID NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    cpts_id     UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    term        TEXT NOT NULL,
    PRIMARY KEY (patient_id, term)
);
CREATE INDEX patient_search_terms_by_term ON patient_search_terms(cpts_id, term);
