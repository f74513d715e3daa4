//! IANA time zones, as schedules and local-time windows name them.
//!
//! Rules: a zone is a name of the IANA database exactly as the database spells it (`Europe/Berlin`,
//! `America/New_York`, `UTC`); surrounding whitespace is ignored.

use std::str::FromStr;

use chrono_tz::Tz;

/// The zone named `name`, or why there is none.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a time zone is required, e.g. Europe/Berlin".to_owned());
    }
    Tz::from_str(name)
        .map_err(|_| format!("`{name}` is not an IANA time zone; write one such as Europe/Berlin or America/New_York"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_are_time_zones() {
        assert_eq!(parse_time_zone("Europe/Berlin").unwrap(), Tz::Europe__Berlin);
        assert_eq!(parse_time_zone(" America/New_York ").unwrap(), Tz::America__New_York);
        assert_eq!(parse_time_zone("UTC").unwrap(), Tz::UTC);
    }

    #[test]
    fn unknown_and_misspelled_names_are_refused() {
        assert!(
            parse_time_zone("Mars/Olympus")
                .unwrap_err()
                .contains("not an IANA time zone")
        );
        assert!(parse_time_zone("europe/berlin").is_err());
        assert!(parse_time_zone("Europe/Berlin+1").is_err());
        assert!(parse_time_zone("  ").unwrap_err().contains("required"));
    }
}
