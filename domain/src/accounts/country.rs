//! A country as ISO 3166-1 alpha-2: two upper-case letters that ISO has assigned to a country or territory.
//!
//! Rule: only assigned codes are accepted (249 of them, as of ISO/TC 46 N1108, 2023-04-05), so common
//! mistakes such as `UK` (for `GB`) or `EU` are caught at import instead of stored. Lower case is refused rather
//! than guessed.

use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let bytes: [u8; 2] = value
            .as_bytes()
            .try_into()
            .ok()
            .filter(|b: &[u8; 2]| b.iter().all(u8::is_ascii_uppercase))
            .ok_or_else(|| FieldError::new(field, "country must be two upper-case letters (ISO 3166-1 alpha-2)"))?;
        if ASSIGNED.binary_search(&value).is_err() {
            return Err(FieldError::new(
                field,
                "country is not an assigned ISO 3166-1 alpha-2 code",
            ));
        }
        Ok(Self(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

/// The assigned ISO 3166-1 alpha-2 codes, sorted (tzdata's `iso3166.tab` lists the same set).
const ASSIGNED: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA",
    "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_assigned_codes() {
        for code in ["GB", "US", "DE", "UA", "AX", "ZW"] {
            assert_eq!(
                CountryCode::parse("country", code).map(|c| c.as_str().to_owned()),
                Ok(code.to_owned())
            );
        }
    }

    #[test]
    fn refuses_lower_case_wrong_length_and_unassigned_codes() {
        for bad in ["", "gb", "Gb", "G", "GBR", "G1", "UK", "EU", "XX", "ÄB"] {
            assert!(CountryCode::parse("country", bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        assert!(ASSIGNED.windows(2).all(|w| w[0] < w[1]));
    }
}
