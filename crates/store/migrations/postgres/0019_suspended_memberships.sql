-- The coordination suspends someone's access to its CPTS (a member who left, a partner whose agreement ended)
-- without touching their account, which may belong to other CPTS too. A suspended membership gives no access;
-- a new invitation, or the coordination, lifts the suspension.
ALTER TABLE memberships ADD COLUMN suspended_at BIGINT;
