-- Dysfunctions of unscheduled care (48 h deadline missed, no slot found, wrong number, no-show…), with who
-- reported them, when, and the follow-up given, for the SAS committee.
CREATE TABLE snp_dysfunctions (
    id           UUID PRIMARY KEY NOT NULL,
    cpts_id      UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    occurred_at  BIGINT NOT NULL,
    reported_by  UUID,
    reporter     TEXT NOT NULL,
    booking_id   UUID REFERENCES snp_bookings(id) ON DELETE SET NULL,
    description  TEXT NOT NULL,
    follow_up    TEXT NOT NULL DEFAULT '',
    resolved_at  BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX snp_dysfunctions_by_time ON snp_dysfunctions(cpts_id, occurred_at);
