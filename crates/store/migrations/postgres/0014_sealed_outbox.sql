-- The outbox and the job queue keep no secret nor contact in clear: recipients, bodies and payloads are sealed
-- by the application from now on, and messages are reduced to their subject and date after a keeping delay.
ALTER TABLE outbox ADD COLUMN reduced_at BIGINT;
-- What earlier versions left in clear goes now: live links and addresses must not wait for the delay.
UPDATE outbox SET recipient = '', body = '', reduced_at = created_at;
UPDATE jobs SET payload = '' WHERE status IN ('done', 'failed');
