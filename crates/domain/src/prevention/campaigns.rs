//! The national prevention calendar a CPTS relays — shipped as data, each CPTS editing its year — and the
//! channels its messages go out on, counted for the indicators.

use crate::calendar::Day;
use crate::codes::coded_enum;

coded_enum!(
    /// Where a campaign's messages are relayed.
    Channel {
        Newsletter => ("lettre", "Lettre d'information"),
        Website => ("site", "Site internet"),
        SocialNetworks => ("reseaux-sociaux", "Réseaux sociaux"),
        WaitingRoomScreens => ("ecrans", "Écrans des salles d'attente"),
        Posters => ("affiches", "Affiches et flyers"),
        Press => ("presse", "Presse locale"),
    }
);

/// A national campaign of a year: its code, name and dates (Paris days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalCampaign {
    pub code: &'static str,
    pub name: &'static str,
    pub from: Day,
    pub to: Day,
}

fn on(year: i32, month: u32, day: u32) -> Day {
    Day::parse("jour", &format!("{year:04}-{month:02}-{day:02}"))
        .unwrap_or_else(|_| Day::from_days_since_epoch(0))
}

/// The last `weekday` (1 Monday … 7 Sunday) of a month.
fn last_weekday(year: i32, month: u32, weekday: u32) -> Day {
    let mut day = on(year, month, 1).plus_months(1).plus_days(-1);
    while day.weekday() != weekday {
        day = day.plus_days(-1);
    }
    day
}

/// The national calendar of `year`: Mars Bleu (March), the European Immunisation Week (the last full week of
/// April), the World No Tobacco Day (31 May), Octobre Rose (October), Mois sans tabac (November), the World
/// Diabetes Day (14 November). M'T dents runs all year and is relayed as a campaign of the whole year.
pub fn national_calendar(year: i32) -> Vec<NationalCampaign> {
    let vaccination_end = last_weekday(year, 4, 7);
    vec![
        NationalCampaign {
            code: "mars-bleu",
            name: "Mars Bleu (dépistage du cancer colorectal)",
            from: on(year, 3, 1),
            to: on(year, 3, 31),
        },
        NationalCampaign {
            code: "semaine-vaccination",
            name: "Semaine européenne de la vaccination",
            from: vaccination_end.plus_days(-6),
            to: vaccination_end,
        },
        NationalCampaign {
            code: "journee-sans-tabac",
            name: "Journée mondiale sans tabac",
            from: on(year, 5, 31),
            to: on(year, 5, 31),
        },
        NationalCampaign {
            code: "octobre-rose",
            name: "Octobre Rose (dépistage du cancer du sein)",
            from: on(year, 10, 1),
            to: on(year, 10, 31),
        },
        NationalCampaign {
            code: "mois-sans-tabac",
            name: "Mois sans tabac",
            from: on(year, 11, 1),
            to: on(year, 11, 30),
        },
        NationalCampaign {
            code: "journee-diabete",
            name: "Journée mondiale du diabète",
            from: on(year, 11, 14),
            to: on(year, 11, 14),
        },
        NationalCampaign {
            code: "mt-dents",
            name: "M'T dents (prévention bucco-dentaire)",
            from: on(year, 1, 1),
            to: on(year, 12, 31),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_national_calendar_falls_on_its_dates_each_year() {
        let calendar = national_calendar(2027);
        let find = |code: &str| calendar.iter().find(|c| c.code == code).unwrap();
        // The last Sunday of April 2027 is the 25th: the week runs from Monday the 19th.
        let week = find("semaine-vaccination");
        assert_eq!(
            (week.from.iso(), week.to.iso()),
            ("2027-04-19".into(), "2027-04-25".into())
        );
        assert_eq!(find("octobre-rose").to.iso(), "2027-10-31");
        assert_eq!(find("mois-sans-tabac").from.iso(), "2027-11-01");
        let week_2026 = national_calendar(2026)
            .into_iter()
            .find(|c| c.code == "semaine-vaccination")
            .unwrap();
        assert_eq!(week_2026.to.iso(), "2026-04-26");
        assert!(calendar.iter().all(|c| c.from <= c.to));
        assert_eq!(Channel::parse("ecrans"), Some(Channel::WaitingRoomScreens));
    }
}
