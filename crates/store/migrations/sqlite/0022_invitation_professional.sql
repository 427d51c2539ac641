-- An invitation sent to a member from the directory carries her directory record: accepting it links the new
-- account to the record (her slots, her places, the proposals addressed to her), in the same transaction.
ALTER TABLE invitations ADD COLUMN professional_id BLOB REFERENCES professionals(id) ON DELETE SET NULL;
