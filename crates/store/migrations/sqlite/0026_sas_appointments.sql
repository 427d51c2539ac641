-- Who booked at the SAS (the regulator's national identifier `8` + RPPS, or the SAS's technical identifier of an
-- operator): the Appointment sent back to the SAS names them (FrAppointmentSAS, AppointmentOperator). A
-- professional identifier, not patient data.
ALTER TABLE snp_bookings ADD COLUMN sas_operator TEXT;

-- An Appointment sent back to the SAS is a delivery too (channel `sas`), so that its state shows on the booking.
-- SQLite cannot change a CHECK constraint: the table is rebuilt with its rows and indexes.
CREATE TABLE deliveries_new (
    id            BLOB PRIMARY KEY NOT NULL,
    cpts_id       BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    subject_kind  TEXT NOT NULL,
    subject_id    BLOB NOT NULL,
    purpose       TEXT NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'phone', 'sas')),
    job_id        BLOB,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'no_address', 'phoned')),
    detail        TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    handled_by    BLOB REFERENCES users(id) ON DELETE SET NULL,
    handled_at    BIGINT
);
INSERT INTO deliveries_new (id, cpts_id, subject_kind, subject_id, purpose, channel, job_id, state, detail,
                            created_at, handled_by, handled_at)
    SELECT id, cpts_id, subject_kind, subject_id, purpose, channel, job_id, state, detail, created_at, handled_by,
           handled_at
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_subject ON deliveries(cpts_id, subject_kind, subject_id);
CREATE INDEX deliveries_to_call ON deliveries(cpts_id, state);
CREATE INDEX deliveries_job ON deliveries(job_id);
