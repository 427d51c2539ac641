-- The SAS platforms a deployment lets in by their IGC-Santé client certificate (mutual TLS): the certificate's
-- Common Name and Organizational Unit, as the guide's security page says they are checked, and the CPTS whose
-- slots each may read. A revoked client stays listed for the record.
CREATE TABLE sas_clients (
    id                   UUID PRIMARY KEY NOT NULL,
    name                 TEXT NOT NULL,
    common_name          TEXT NOT NULL,
    organisational_unit  TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    revoked_at           BIGINT,
    UNIQUE (common_name, organisational_unit)
);
CREATE TABLE sas_client_cpts (
    client_id  UUID NOT NULL REFERENCES sas_clients(id) ON DELETE CASCADE,
    cpts_id    UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, cpts_id)
);
