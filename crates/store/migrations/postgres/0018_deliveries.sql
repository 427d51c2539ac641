-- What became of each message Maillage sends on behalf of a CPTS (a proposal to a GP, a booking notice, a
-- message to a patient, an invitation): queued, sent, failed — or no address, so someone must phone. No
-- address or text is kept here (the job carries them, sealed); the state while the job exists is read from it.
CREATE TABLE deliveries (
    id            UUID PRIMARY KEY NOT NULL,
    cpts_id       UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    subject_kind  TEXT NOT NULL,
    subject_id    UUID NOT NULL,
    purpose       TEXT NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'phone')),
    job_id        UUID,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'no_address', 'phoned')),
    detail        TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    handled_by    UUID REFERENCES users(id) ON DELETE SET NULL,
    handled_at    BIGINT
);
CREATE INDEX deliveries_subject ON deliveries(cpts_id, subject_kind, subject_id);
CREATE INDEX deliveries_to_call ON deliveries(cpts_id, state);
CREATE INDEX deliveries_job ON deliveries(job_id);
