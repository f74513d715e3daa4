//! The five fields of a cron expression, parsed into sets of values. The accepted syntax is documented
//! on [`super::schedule`]; this file is its one implementation.

use chrono::{Datelike, NaiveDate};

/// One field's rules.
struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    /// Three-letter names for `min`, `min + 1`, ... (months from JAN, weekdays from SUN); empty for none.
    names: &'static [&'static str],
}

const MINUTE: FieldSpec = FieldSpec {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: FieldSpec = FieldSpec {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
/// 0 and 7 are both Sunday; 7 is folded into 0 after parsing.
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};

/// A set of small numbers (bit `n` set when `n` is in the set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bits(u64);

impl Bits {
    fn contains(self, value: u32) -> bool {
        value < 64 && self.0 & (1 << value) != 0
    }

    fn values(self) -> impl Iterator<Item = u32> {
        (0..64).filter(move |value| self.contains(*value))
    }
}

/// A parsed cron expression: which minutes, hours, days, months and weekdays match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CronFields {
    minutes: Bits,
    hours: Bits,
    days: Bits,
    months: Bits,
    weekdays: Bits,
    /// Whether day-of-month and day-of-week are both restricted (neither starts with `*`): then a day
    /// matches when either matches, as in Vixie cron.
    either_day: bool,
}

impl CronFields {
    pub(super) fn parse(expression: &str) -> Result<CronFields, String> {
        let fields: Vec<&str> = expression.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), not {}",
                fields.len()
            ));
        }
        let minutes = parse_field(fields[0], &MINUTE)?;
        let hours = parse_field(fields[1], &HOUR)?;
        let days = parse_field(fields[2], &DAY_OF_MONTH)?;
        let months = parse_field(fields[3], &MONTH)?;
        let mut weekdays = parse_field(fields[4], &DAY_OF_WEEK)?;
        if weekdays.contains(7) {
            weekdays = Bits((weekdays.0 & !(1 << 7)) | 1);
        }
        let parsed = CronFields {
            minutes,
            hours,
            days,
            months,
            weekdays,
            either_day: !fields[2].starts_with('*') && !fields[4].starts_with('*'),
        };
        if !parsed.either_day && !parsed.some_month_has_a_chosen_day() {
            return Err(
                "the schedule never fires: none of the chosen months has the chosen days of the month".to_owned(),
            );
        }
        Ok(parsed)
    }

    pub(super) fn minutes(&self) -> impl Iterator<Item = u32> {
        self.minutes.values()
    }

    pub(super) fn hours(&self) -> impl Iterator<Item = u32> {
        self.hours.values()
    }

    pub(super) fn matches_time(&self, hour: u32, minute: u32) -> bool {
        self.hours.contains(hour) && self.minutes.contains(minute)
    }

    pub(super) fn matches_date(&self, date: NaiveDate) -> bool {
        if !self.months.contains(date.month()) {
            return false;
        }
        let day = self.days.contains(date.day());
        let weekday = self.weekdays.contains(date.weekday().num_days_from_sunday());
        if self.either_day {
            day || weekday
        } else {
            day && weekday
        }
    }

    /// Whether some chosen month has some chosen day (February counted with 29 days).
    fn some_month_has_a_chosen_day(&self) -> bool {
        self.months.values().any(|month| {
            let last = match month {
                2 => 29,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            self.days.values().any(|day| day <= last)
        })
    }
}

fn parse_field(text: &str, spec: &FieldSpec) -> Result<Bits, String> {
    let mut bits = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("{} field `{text}` has an empty list item", spec.name));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(parse_step(step, spec)?)),
            None => (item, None),
        };
        let (low, high) = if range == "*" {
            (spec.min, spec.max)
        } else if let Some((low, high)) = range.split_once('-') {
            let (low, high) = (parse_value(low, spec)?, parse_value(high, spec)?);
            if low > high {
                return Err(format!(
                    "{} range `{range}` runs backwards; a range goes from low to high",
                    spec.name
                ));
            }
            (low, high)
        } else {
            let value = parse_value(range, spec)?;
            if let Some(step) = step {
                return Err(format!(
                    "{} `{item}`: a step needs `*` or a range before it, e.g. `{value}-{}/{step}`",
                    spec.name, spec.max
                ));
            }
            (value, value)
        };
        let step = step.unwrap_or(1);
        let mut value = low;
        while value <= high {
            bits |= 1 << value;
            value += step;
        }
    }
    Ok(Bits(bits))
}

fn parse_step(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    let span = spec.max - spec.min + 1;
    match text.parse::<u32>() {
        Ok(step) if (1..=span).contains(&step) && is_plain_number(text) => Ok(step),
        _ => Err(format!(
            "{} step `/{text}` must be a number from 1 to {span}",
            spec.name
        )),
    }
}

fn parse_value(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    if is_plain_number(text) {
        if let Ok(value) = text.parse::<u32>()
            && (spec.min..=spec.max).contains(&value)
        {
            return Ok(value);
        }
        return Err(format!("{} `{text}` is outside {}-{}", spec.name, spec.min, spec.max));
    }
    let upper = text.to_ascii_uppercase();
    if let Some(index) = spec.names.iter().position(|name| *name == upper) {
        return Ok(spec.min + index as u32);
    }
    let names = if spec.names.is_empty() {
        String::new()
    } else {
        format!(" or a name {}-{}", spec.names[0], spec.names[spec.names.len() - 1])
    };
    Err(format!(
        "{} `{text}` is not a number {}-{}{names}",
        spec.name, spec.min, spec.max
    ))
}

fn is_plain_number(text: &str) -> bool {
    !text.is_empty() && text.len() <= 4 && text.bytes().all(|b| b.is_ascii_digit())
}
