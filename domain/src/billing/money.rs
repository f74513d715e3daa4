//! Money: an integer number of minor units and a currency, never a float.

use std::fmt;

use crate::error::FieldError;

/// An ISO 4217 currency the service keeps wallets in, with its number of minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u32,
}

/// The currencies a wallet or a top-up may be in.
const KNOWN: &[Currency] = &[
    Currency {
        code: "USD",
        exponent: 2,
    },
    Currency {
        code: "EUR",
        exponent: 2,
    },
    Currency {
        code: "GBP",
        exponent: 2,
    },
];

impl Currency {
    pub const USD: Currency = Currency {
        code: "USD",
        exponent: 2,
    };

    /// A known ISO 4217 code, in any letter case.
    pub fn parse(text: &str) -> Option<Currency> {
        let upper = text.trim().to_ascii_uppercase();
        KNOWN.iter().copied().find(|c| c.code == upper)
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    /// Digits after the decimal point (2 for cents).
    pub fn exponent(self) -> u32 {
        self.exponent
    }

    /// Minor units per major unit (100 for cents).
    pub fn minor_per_major(self) -> i64 {
        10_i64.pow(self.exponent)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// An amount of money. Arithmetic is checked: an overflow is an error, never a wrapped balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    /// A positive amount for a payment, or the field error saying why not.
    pub fn positive(minor: i64, currency: Currency, field: &str) -> Result<Money, FieldError> {
        if minor <= 0 {
            return Err(FieldError::new(
                field,
                "must be a positive amount in minor units (cents)",
            ));
        }
        Ok(Money::new(minor, currency))
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money::new(self.minor.checked_add(other.minor)?, self.currency))
    }

    pub fn negated(self) -> Money {
        Money::new(-self.minor, self.currency)
    }
}

impl fmt::Display for Money {
    /// `12.34 USD`, `-0.05 EUR`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = self.currency.minor_per_major().unsigned_abs();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let width = self.currency.exponent as usize;
        if width == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        write!(f, "{sign}{}.{:0width$} {}", abs / per, abs % per, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_with_its_minor_digits() {
        assert_eq!(Money::new(1234, Currency::USD).to_string(), "12.34 USD");
        assert_eq!(Money::new(-5, Currency::USD).to_string(), "-0.05 USD");
        assert_eq!(
            Money::new(i64::MIN, Currency::USD).to_string(),
            "-92233720368547758.08 USD"
        );
    }

    #[test]
    fn currencies_parse_in_any_case_and_unknown_ones_do_not() {
        assert_eq!(Currency::parse(" usd "), Some(Currency::USD));
        assert_eq!(Currency::parse("XYZ"), None);
        assert_eq!(Currency::parse(""), None);
    }

    #[test]
    fn adding_checks_currency_and_overflow() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(Money::new(1, Currency::USD).checked_add(Money::new(1, eur)), None);
        assert_eq!(
            Money::new(i64::MAX, Currency::USD).checked_add(Money::new(1, Currency::USD)),
            None
        );
        assert!(Money::positive(0, Currency::USD, "amountMinor").is_err());
        assert!(Money::positive(-1, Currency::USD, "amountMinor").is_err());
    }
}
