//! Property tests standing in for a fuzzer: arbitrary input never panics a parser, and whatever a parser
//! accepts, it accepts again unchanged (parsing is idempotent), with Luhn-valid digits for the national numbers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use maillage_domain::cpts::{slugify, CptsDraft};
use maillage_domain::identifiers::{
    luhn_valid, required_text, with_luhn_key, Email, Finess, InseeCode, Rpps, Siret,
};
use proptest::prelude::*;

use maillage_domain::directory::EXTRACT_HEADER as HEADER;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        let _ = Rpps::parse(&input);
        let _ = Finess::parse(&input);
        let _ = Siret::parse(&input);
        let _ = InseeCode::parse(&input);
        let _ = Email::parse(&input);
        let _ = required_text("champ", &input, 50);
        if let Ok(Some(operator)) = maillage_domain::sas::SasOperator::parse(&input) {
            // What is kept reads back as the same operator.
            prop_assert_eq!(maillage_domain::sas::SasOperator::from_stored(&operator.stored()), Some(operator));
        }
        let _ = CptsDraft::parse(&input, &input, &input, &input);
        // The new missions' forms: a registrant, a survey answer, a wording file, a liaison sheet, a meeting.
        use maillage_domain::prevention::{registration, survey};
        let _ = registration::check_registrant(&registration::RegistrationDraft {
            family_name: input.clone(),
            given_names: input.clone(),
            email: input.clone(),
            phone: input.clone(),
            commune: input.clone(),
            age_band: input.clone(),
            consent: true,
        });
        let _ = survey::check_answer(&survey::default_questions(), &[input.clone(), input.clone()], &input);
        let _ = maillage_domain::pathways::instruments::wording::parse_wording(
            maillage_domain::pathways::instruments::Instrument::Zarit4,
            &input,
        );
        let slug = slugify(&input);
        prop_assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    }

    #[test]
    fn fhir_date_times_never_panic_and_round_trip(input in "[0-9TZ:+.-]{0,32}", any_text in any::<String>()) {
        let _ = maillage_domain::calendar::parse_fhir_date_time(&any_text);
        if let Some(instant) = maillage_domain::calendar::parse_fhir_date_time(&input) {
            // Whatever is read is written back in Paris time and reads as the same instant (to the second).
            let written = maillage_domain::calendar::paris_date_time(instant);
            prop_assert_eq!(
                maillage_domain::calendar::parse_fhir_date_time(&written),
                Some(instant - instant.rem_euclid(1000))
            );
        }
    }

    #[test]
    fn arbitrary_extract_lines_never_panic(line in "[^\n]{0,400}", pipes in proptest::collection::vec("[^|\n]{0,12}", 0..60)) {
        let header = maillage_domain::directory::ExtractHeader::parse(HEADER).unwrap();
        let _ = maillage_domain::directory::Activity::parse(&line, &header);
        let _ = maillage_domain::directory::Activity::parse(&format!("{}|", pipes.join("|")), &header);
        let _ = maillage_domain::directory::ExtractHeader::parse(&line);
        let _ = maillage_domain::directory::decode_line(line.as_bytes());
    }

    #[test]
    fn arbitrary_spreadsheet_lines_never_panic(line in "[^\n]{0,300}", cells in proptest::collection::vec("[^;\n]{0,14}", 0..40)) {
        let members = maillage_domain::professional::MemberHeader::parse(
            &maillage_domain::text::split_semicolons(&maillage_domain::professional::member_template_header()),
        ).unwrap();
        for text in [line.clone(), cells.join(";"), format!("structureet;{}", cells.join(";"))] {
            let fields = maillage_domain::text::split_semicolons(&text);
            let _ = maillage_domain::professional::MemberLine::parse(&fields, &members, 2026);
            let _ = maillage_domain::professional::MemberHeader::parse(&fields);
            let _ = maillage_domain::structures::FinessLine::parse(&fields);
            let _ = maillage_domain::text::decode_text(text.as_bytes());
            let _ = maillage_domain::structures::parse_date("date", &text);
            let _ = maillage_domain::professional::parse_phone("tel", &text);
        }
    }

    #[test]
    fn near_valid_numbers_are_judged_by_luhn(digits in "[0-9]{11}") {
        prop_assert_eq!(Rpps::parse(&digits).is_ok(), luhn_valid(&digits));
    }

    #[test]
    fn accepted_values_parse_again_to_themselves(
        rpps in "[0-9]{10}", finess in "(2[AB]|[0-9]{2})[0-9]{6}", code in "(2[AB]|[0-9]{2})[0-9]{3}",
        email in "[a-z0-9._-]{1,20}@[a-z0-9-]{1,20}\\.[a-z]{2,6}",
    ) {
        // Valid by construction (the Luhn key added), so that every case checks the round trip: a check
        // that skipped the values it failed to parse would hold vacuously.
        let parsed = Rpps::parse(&with_luhn_key(&rpps));
        prop_assert!(parsed.is_ok(), "{:?}", parsed);
        let parsed = parsed.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(Rpps::parse(parsed.as_str()), Ok(parsed.clone()));
        let parsed = Finess::parse(&with_luhn_key(&finess));
        prop_assert!(parsed.is_ok(), "{:?}", parsed);
        let parsed = parsed.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(Finess::parse(parsed.as_str()), Ok(parsed.clone()));
        let parsed = InseeCode::parse(&code);
        prop_assert!(parsed.is_ok());
        let parsed = Email::parse(&email);
        prop_assert!(parsed.is_ok(), "{:?}", parsed);
    }
}
