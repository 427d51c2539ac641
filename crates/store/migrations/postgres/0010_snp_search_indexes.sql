-- The search reads free slots in start order and stops at the page's end: the index must give (start, id)
-- order itself, and the "no live booking" test must find a slot's bookings by index (measured at region scale:
-- without these, each search sorted every slot of the window and scanned the bookings for each).
DROP INDEX snp_slots_by_start;
CREATE INDEX snp_slots_by_start ON snp_slots(cpts_id, start_at, id);
CREATE INDEX snp_bookings_by_slot ON snp_bookings(slot_id, status);
