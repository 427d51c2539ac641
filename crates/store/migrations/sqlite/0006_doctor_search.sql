-- Access to a médecin traitant: requests of patients without one (identity in `patients`, encrypted), their
-- history, the GPs' declared room for new patients, proposals made to GPs, and each CPTS's priority rules.
CREATE TABLE doctor_requests (
    id                  BLOB PRIMARY KEY NOT NULL,
    cpts_id             BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    -- NULL once the request is anonymised.
    patient_id          BLOB REFERENCES patients(id) ON DELETE SET NULL,
    channel             TEXT NOT NULL,
    referrer            TEXT NOT NULL,
    referrer_user_id    BLOB,
    consent_by          TEXT NOT NULL,
    consent_method      TEXT NOT NULL,
    consent_at          BIGINT NOT NULL,
    consent_recorded_by BLOB,
    birth_year          BIGINT NOT NULL,
    age_at_request      BIGINT NOT NULL,
    commune_code        TEXT NOT NULL,
    ald                 BOOLEAN NOT NULL,
    css                 BOOLEAN NOT NULL,
    ame                 BOOLEAN NOT NULL,
    loss_of_autonomy    BOOLEAN NOT NULL,
    isolation           BOOLEAN NOT NULL,
    precarity           BOOLEAN NOT NULL,
    disability          BOOLEAN NOT NULL,
    pregnancy           BOOLEAN NOT NULL,
    former_gp_left      BOOLEAN NOT NULL,
    priority            BIGINT NOT NULL,
    priority_reasons    TEXT NOT NULL,
    state               TEXT NOT NULL,
    state_since         BIGINT NOT NULL,
    professional_id     BLOB REFERENCES professionals(id) ON DELETE SET NULL,
    outcome             TEXT NOT NULL DEFAULT '',
    submissions         BIGINT NOT NULL DEFAULT 1,
    received_at         BIGINT NOT NULL,
    attached_at         BIGINT,
    anonymised_at       BIGINT,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX doctor_requests_by_state ON doctor_requests(cpts_id, state, priority);
CREATE INDEX doctor_requests_by_received ON doctor_requests(cpts_id, received_at);
CREATE INDEX doctor_requests_by_patient ON doctor_requests(patient_id);
CREATE INDEX doctor_requests_by_referrer ON doctor_requests(cpts_id, referrer_user_id, received_at);

CREATE TABLE doctor_request_events (
    id          BLOB PRIMARY KEY NOT NULL,
    cpts_id     BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    request_id  BLOB NOT NULL REFERENCES doctor_requests(id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    actor_id    BLOB,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX doctor_request_events_by_request ON doctor_request_events(request_id, at);
CREATE INDEX doctor_request_events_by_kind ON doctor_request_events(cpts_id, kind, at);

-- The account of a member professional, to let a GP declare their own room and see their proposals.
CREATE TABLE professional_accounts (
    cpts_id          BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    user_id          BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    professional_id  BLOB NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    PRIMARY KEY (cpts_id, user_id)
);

CREATE TABLE gp_capacities (
    cpts_id          BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    professional_id  BLOB NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    now_capacity     BIGINT NOT NULL,
    later_capacity   BIGINT NOT NULL,
    communes         TEXT NOT NULL DEFAULT '',
    max_distance_km  BIGINT,
    age_groups       TEXT NOT NULL DEFAULT 'children;adults;elderly',
    home_visits      BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at       BIGINT NOT NULL,
    updated_by       BLOB,
    reminded_at      BIGINT,
    PRIMARY KEY (cpts_id, professional_id)
);
CREATE INDEX gp_capacities_by_update ON gp_capacities(updated_at);

CREATE TABLE doctor_proposals (
    id               BLOB PRIMARY KEY NOT NULL,
    cpts_id          BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    request_id       BLOB NOT NULL REFERENCES doctor_requests(id) ON DELETE CASCADE,
    professional_id  BLOB NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'declined', 'cancelled')),
    distance_m       BIGINT NOT NULL,
    priority         BIGINT NOT NULL,
    explanation      TEXT NOT NULL,
    token_hash       TEXT UNIQUE,
    decline_reason   TEXT NOT NULL DEFAULT '',
    created_by       BLOB,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT,
    answered_at      BIGINT
);
CREATE INDEX doctor_proposals_by_status ON doctor_proposals(cpts_id, status, priority);
CREATE INDEX doctor_proposals_by_request ON doctor_proposals(request_id);
CREATE INDEX doctor_proposals_by_professional ON doctor_proposals(professional_id, status);

CREATE TABLE doctor_search_settings (
    cpts_id     BLOB PRIMARY KEY NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    rules       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
