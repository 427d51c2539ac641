-- Meetings with attendees, shared by the missions (kind: 'rcp' for the pathways' case meetings): when and where,
-- the minutes sealed (they tell of patients), who was invited and who came. The case meetings' cases: a patient
-- of a pathway presented, the decision sealed, the follow-up step it created.
CREATE TABLE meetings (
    id            BLOB PRIMARY KEY NOT NULL,
    cpts_id       BLOB NOT NULL REFERENCES cpts(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    held_on       TEXT NOT NULL,
    start_minute  BIGINT NOT NULL,
    place         TEXT NOT NULL,
    minutes       BLOB,
    created_at    BIGINT NOT NULL
);
CREATE INDEX meetings_by_cpts ON meetings(cpts_id, kind, held_on);
CREATE TABLE meeting_attendees (
    meeting_id       BLOB NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    professional_id  BLOB NOT NULL REFERENCES professionals(id) ON DELETE CASCADE,
    attendance       TEXT NOT NULL CHECK (attendance IN ('invite', 'present', 'excuse', 'absent')),
    PRIMARY KEY (meeting_id, professional_id)
);
CREATE TABLE meeting_cases (
    id              BLOB PRIMARY KEY NOT NULL,
    meeting_id      BLOB NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    inclusion_id    BLOB NOT NULL REFERENCES pathway_inclusions(id) ON DELETE CASCADE,
    decision        BLOB,
    follow_up_step  BLOB,
    decided_at      BIGINT,
    UNIQUE (meeting_id, inclusion_id)
);
CREATE INDEX meeting_cases_by_inclusion ON meeting_cases(inclusion_id);
