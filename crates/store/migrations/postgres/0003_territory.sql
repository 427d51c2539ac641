-- The communes that make up each CPTS's territory (INSEE codes of the reference table compiled in the binary).
CREATE TABLE cpts_communes (
    cpts_id     UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    insee_code  TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (cpts_id, insee_code)
);
