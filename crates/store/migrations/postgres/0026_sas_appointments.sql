-- Who booked at the SAS (the regulator's national identifier `8` + RPPS, or the SAS's technical identifier of an
-- operator): the Appointment sent back to the SAS names them (FrAppointmentSAS, AppointmentOperator). A
-- professional identifier, not patient data.
ALTER TABLE snp_bookings ADD COLUMN sas_operator TEXT;

-- An Appointment sent back to the SAS is a delivery too (channel `sas`), so that its state shows on the booking.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('email', 'sms', 'phone', 'sas'));
