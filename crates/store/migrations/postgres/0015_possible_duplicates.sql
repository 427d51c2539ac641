-- A public or partner submission matching the open request of the same person is kept as a request of its own,
-- flagged as a possible duplicate until the secretariat decides (merge or keep apart): nothing is added to
-- the open request on an anonymous submitter's word, and the submitter is answered as for a new request.
CREATE TABLE doctor_request_duplicates (
    request_id    UUID PRIMARY KEY NOT NULL REFERENCES doctor_requests(id) ON DELETE CASCADE,
    cpts_id       UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    duplicate_of  UUID NOT NULL REFERENCES doctor_requests(id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL
);
CREATE INDEX doctor_request_duplicates_by_cpts ON doctor_request_duplicates(cpts_id, created_at);
