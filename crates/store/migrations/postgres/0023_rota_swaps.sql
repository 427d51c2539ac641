-- A member proposes to swap her own rota turn with a colleague's; the colleague accepts (both turns change
-- hands in one step) or declines. Proposals stay for the record; at most one pending per pair of turns.
CREATE TABLE snp_rota_swaps (
    id               UUID PRIMARY KEY NOT NULL,
    cpts_id          UUID NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    turn_id          UUID NOT NULL REFERENCES snp_rota_turns(id) ON DELETE CASCADE,
    wanted_turn_id   UUID NOT NULL REFERENCES snp_rota_turns(id) ON DELETE CASCADE,
    proposed_by      UUID NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    proposed_to      UUID NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    status           TEXT NOT NULL,
    created_by       UUID,
    created_at       BIGINT NOT NULL,
    settled_at       BIGINT
);
CREATE UNIQUE INDEX snp_rota_swaps_one_pending ON snp_rota_swaps(turn_id, wanted_turn_id) WHERE status = 'pending';
CREATE INDEX snp_rota_swaps_by_proposer ON snp_rota_swaps(cpts_id, proposed_by, status);
CREATE INDEX snp_rota_swaps_by_recipient ON snp_rota_swaps(cpts_id, proposed_to, status);
