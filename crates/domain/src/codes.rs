//! Coded values — states, kinds, reasons — defined once: the code stored in the database (the same text on
//! SQLite and PostgreSQL, checked by the migrations' `CHECK` constraints), the French label shown in pages and
//! exports, and the list of every value. The store decodes a column with [`Coded::parse`] and refuses an
//! unknown code as a corrupt row; SQL that filters on a state takes its text from [`Coded::code`].

/// A value with a stored code and a French label.
pub trait Coded: Sized + Copy + 'static {
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// The code stored in the database and used in URLs and forms.
    fn code(self) -> &'static str;
    /// French label shown in the interface.
    fn label(self) -> &'static str;
    /// The value of a stored code.
    fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.code() == code)
    }
    /// `'a', 'b'` — the quoted codes of `values`, for an SQL `IN (…)`. Codes are ASCII literals of this
    /// crate, never user input.
    fn sql_list(values: &[Self]) -> String {
        values
            .iter()
            .map(|value| format!("'{}'", value.code()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A stored code that no value has (a corrupt row, or a code from a newer version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode(pub String);

impl std::fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown code {:?}", self.0)
    }
}

impl std::error::Error for UnknownCode {}

/// Declares an enum with its codes and labels, its [`Coded`] implementation, and `TryFrom<String>` — which
/// lets a store row read the column straight into the enum (`#[sqlx(try_from = "String")]`).
macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(code: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }

            /// French label shown in the interface.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::codes::UnknownCode;
            fn try_from(code: String) -> Result<Self, Self::Error> {
                $name::parse(&code).ok_or($crate::codes::UnknownCode(code))
            }
        }

        impl $crate::codes::Coded for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn code(self) -> &'static str {
                $name::code(self)
            }
            fn label(self) -> &'static str {
                $name::label(self)
            }
        }
    };
}
pub(crate) use coded_enum;

#[cfg(test)]
mod tests {
    use super::Coded;

    /// Codes are unique within each enum and parse back to their value.
    fn round_trip<T: Coded + PartialEq + std::fmt::Debug>() {
        for (i, value) in T::ALL.iter().enumerate() {
            assert_eq!(T::parse(value.code()), Some(*value));
            assert!(!value.label().is_empty());
            assert!(value
                .code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()));
            assert!(T::ALL[i + 1..]
                .iter()
                .all(|other| other.code() != value.code()));
        }
        assert_eq!(T::parse("inconnu"), None);
    }

    #[test]
    fn every_coded_enum_round_trips() {
        use crate::doctor_search::ProposalStatus;
        use crate::unscheduled_care::*;
        round_trip::<SlotKind>();
        round_trip::<Modality>();
        round_trip::<BookingOrigin>();
        round_trip::<BookingStatus>();
        round_trip::<Outcome>();
        round_trip::<DysfunctionKind>();
        round_trip::<ProposalStatus>();
        round_trip::<crate::delivery::Channel>();
        round_trip::<crate::delivery::Stored>();
        round_trip::<crate::delivery::Purpose>();
        assert_eq!(
            BookingStatus::sql_list(BookingStatus::LIVE),
            "'held', 'confirmed'"
        );
    }
}
