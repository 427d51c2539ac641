-- The coordination's phone number: every e-mail and SMS sent on behalf of the CPTS is signed with its name and
-- this number, so that a GP or a patient who receives one knows whom to call back.
ALTER TABLE cpts ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';
