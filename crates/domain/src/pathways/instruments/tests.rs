//! Scoring on hand-computed answer sets and edge cases.

use super::*;

fn scored(instrument: Instrument, answers: &str) -> Scored {
    let parts: Vec<&str> = answers.split(',').collect();
    score(instrument, &parts).unwrap()
}

#[test]
fn zarit_22_sums_bands_and_prorates_two_missing_answers() {
    // Hand-computed: eleven 2s and eleven 3s = 22 + 33 = 55, moderate.
    let answers = "2,3,2,3,2,3,2,3,2,3,2,3,2,3,2,3,2,3,2,3,2,3";
    let s = scored(Instrument::Zarit22, answers);
    assert_eq!(s.score, Some(55.0));
    assert_eq!(s.band.unwrap().label, "fardeau modéré");
    for (text, total, band) in [
        ("0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0", 0.0, 0),
        ("1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0,0", 20.0, 0),
        ("1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0", 21.0, 1),
        ("4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4", 88.0, 3),
        ("3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,0", 63.0, 3),
    ] {
        let s = scored(Instrument::Zarit22, text);
        assert_eq!(s.score, Some(total), "{text}");
        assert_eq!(s.band.unwrap().rank, band, "{text}");
    }
    // Two missing: 20 answers of 3 (mean 3) → 66, severe; three missing: no score.
    let s = scored(
        Instrument::Zarit22,
        "3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,,-",
    );
    assert_eq!(s.score, Some(66.0));
    assert_eq!(s.missing, ["21", "22"]);
    assert!(!s.note.is_empty());
    let s = scored(
        Instrument::Zarit22,
        "3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,,,",
    );
    assert_eq!((s.score, s.band), (None, None));
}

#[test]
fn the_short_forms_take_the_items_of_the_interview() {
    let items: Vec<&str> = Instrument::Zarit12.items().iter().map(|i| i.code).collect();
    assert_eq!(
        items,
        ["2", "3", "5", "6", "9", "10", "11", "12", "17", "19", "20", "21"]
    );
    let s = scored(Instrument::Zarit12, "2,2,2,2,2,2,2,2,2,2,2,1");
    assert_eq!(s.score, Some(23.0));
    assert_eq!(s.band.unwrap().label, "fardeau élevé");
    // One missing of 12: mean of eleven 1s → 12.
    let s = scored(Instrument::Zarit12, "1,1,1,1,1,1,1,1,1,1,1,");
    assert_eq!(s.score, Some(12.0));
    let s = scored(Instrument::Zarit4, "2,2,2,2");
    assert_eq!((s.score, s.positive.clone()), (Some(8.0), vec!["fardeau"]));
    let s = scored(Instrument::Zarit4, "2,2,2,");
    assert_eq!(s.score, None, "no missing answer on a 4-item screening");
}

#[test]
fn mini_zarit_counts_halves() {
    let s = scored(Instrument::MiniZarit, "1,0.5,1/2,0,1,0,0");
    assert_eq!(s.score, Some(3.0));
    assert_eq!(s.band.unwrap().label, "fardeau léger à modéré");
    assert_eq!(
        scored(Instrument::MiniZarit, "1,1,1,1,1,1,0.5")
            .band
            .unwrap()
            .rank,
        3
    );
    assert_eq!(
        scored(Instrument::MiniZarit, "1,1,1,1,0.5,0.5,0")
            .band
            .unwrap()
            .rank,
        2
    );
    assert_eq!(
        scored(Instrument::MiniZarit, "0.5,0.5,0.5,0,0,0,0")
            .band
            .unwrap()
            .rank,
        0
    );
}

#[test]
fn icope_finds_the_positive_domains_and_a_decline() {
    // 2 words recalled (cognition), 12 s (mobility fine), appetite lost (nutrition), rest fine.
    let first = scored(Instrument::Icope, "2,1,12,0,1,0,0,0,0");
    assert_eq!(first.positive, ["cognition", "nutrition"]);
    assert_eq!((first.score, first.maximum), (Some(2.0), Some(6.0)));
    assert_eq!(first.band.unwrap().rank, 1);
    // Could not rise 5 times, hearing failed; mood not assessed (missing answers).
    let second = scored(Instrument::Icope, "3,1,x,0,1,0,1,,");
    assert_eq!(second.positive, ["mobilite", "nutrition", "audition"]);
    assert_eq!(second.maximum, Some(5.0));
    assert_eq!(icope_decline(&first, &second), ["mobilite", "audition"]);
    let fine = scored(Instrument::Icope, "3,1,9.5,0,0,0,0,0,0");
    assert!(fine.positive.is_empty());
    assert_eq!(fine.band.unwrap().rank, 0);
    assert_eq!(
        scored(Instrument::Icope, "3,1,14,0,0,0,0,0,0").positive,
        Vec::<&str>::new()
    );
    assert_eq!(
        scored(Instrument::Icope, "3,1,14.1,0,0,0,0,0,0").positive,
        ["mobilite"]
    );
}

#[test]
fn gfst_follows_the_gps_judgement() {
    let s = scored(Instrument::Gfst, "1,1,?,0,1,?,1,1");
    assert_eq!(
        (s.score, s.positive.clone()),
        (Some(3.0), vec!["fragilite"])
    );
    let s = scored(Instrument::Gfst, "1,1,1,1,1,1,0,0");
    assert!(s.positive.is_empty());
    let error = score(Instrument::Gfst, &["1", "1", "1", "1", "1", "1", "", "0"]).unwrap_err();
    assert!(error.message.contains("jugement du médecin"));
}

#[test]
fn nyha_and_wrong_answers() {
    assert_eq!(scored(Instrument::Nyha, "3").band.unwrap().rank, 2);
    for (instrument, answers, expected) in [
        (Instrument::Nyha, vec!["5"], "un entier de 1 à 4"),
        (Instrument::Nyha, vec!["1", "2"], "1 réponse attendue pour"),
        (Instrument::MiniZarit, vec!["2"; 7], "0 (jamais)"),
        (
            Instrument::Icope,
            vec!["0", "1", "-3", "0", "0", "0", "0", "0", "0"],
            "secondes",
        ),
        (Instrument::Zarit22, vec!["5"; 22], "de 0 à 4"),
    ] {
        let error = score(instrument, &answers).unwrap_err();
        assert_eq!(error.field, ANSWERS_FIELD);
        assert!(error.message.contains(expected), "{}", error.message);
    }
    let s = scored(Instrument::Nyha, "-");
    assert_eq!(s.score, None);
}

#[test]
fn every_instrument_states_its_licence_and_missing_rule() {
    for instrument in Instrument::ALL {
        assert!(!instrument.missing_rule().is_empty());
        assert!(!instrument.items().is_empty());
        assert!(instrument.items().iter().all(|i| !i.label.is_empty()));
    }
    assert_eq!(Instrument::Zarit22.licence(), Licence::WordingLicensed);
    assert_eq!(Instrument::Icope.licence(), Licence::Free);
}
