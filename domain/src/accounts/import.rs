//! Reading a staff-supplied file of accounts to import: session strings, one per line, or JSON lines.
//!
//! Rules:
//! - Lines are numbered from 1. Surrounding whitespace is trimmed; blank lines and lines starting with `#`
//!   are skipped (in every format). A byte-order mark before the first line is ignored.
//! - [`ImportFormat::Telethon`] and [`ImportFormat::Pyrogram`]: each line is one session string of that
//!   library.
//! - [`ImportFormat::Jsonl`]: each line is one JSON object with `session` (string) and `format` (`"telethon"`
//!   or `"pyrogram"`), and optionally `phone` (E.164), `country` (ISO 3166-1 alpha-2), `username`,
//!   `display_name`, `premium` (boolean) and `account_created` (`YYYY-MM-DD`). `null` counts as absent. Any
//!   other field is refused, so a misspelt field name is caught rather than ignored; so is a field given twice.
//! - A line yields one [`ImportedAccount`] or one [`LineError`], never part of an account.
//! - A line whose auth key already appeared on an earlier accepted line is refused as
//!   "duplicate of line N", whatever the two lines' formats.
//! - No reason ever contains the session string, any byte of the key or any other value from the line
//!   (only known field names and numbers), so reasons can be printed and logged.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use serde_json::error::Category;

use super::country::CountryCode;
use super::phone::PhoneNumber;
use super::pyrogram::parse_pyrogram;
use super::session::{SessionError, TelegramSession};
use super::telethon::parse_telethon;
use super::username::TelegramUsername;
use crate::text;

/// The layout of a whole import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Telethon,
    Pyrogram,
    Jsonl,
}

/// The library a single session string comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFormat {
    Telethon,
    Pyrogram,
}

impl SessionFormat {
    pub fn parse_session(self, text: &str) -> Result<TelegramSession, SessionError> {
        match self {
            Self::Telethon => parse_telethon(text),
            Self::Pyrogram => parse_pyrogram(text),
        }
    }
}

/// One account read from one line, every part of it valid.
#[derive(Debug)]
pub struct ImportedAccount {
    /// 1-based line number in the file.
    pub line: usize,
    pub session: TelegramSession,
    pub phone: Option<PhoneNumber>,
    pub country: Option<CountryCode>,
    pub username: Option<TelegramUsername>,
    pub display_name: Option<String>,
    pub premium: bool,
    pub account_created: Option<NaiveDate>,
}

/// Why one line was refused. `reason` is a short sentence that quotes nothing from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the file.
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Every line's outcome, in file order within each list.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub accounts: Vec<ImportedAccount>,
    pub errors: Vec<LineError>,
}

/// A display name holds a first and a last name of at most 64 characters each and the space between.
pub const MAX_DISPLAY_NAME_CHARS: usize = 129;

/// Reads every line of `text` as `format`. Never fails as a whole: each line is an account or an error.
pub fn parse_import(format: ImportFormat, text: &str) -> ImportReport {
    let mut report = ImportReport::default();
    // Fingerprint of each accepted key -> the line that brought it.
    let mut seen: HashMap<[u8; 32], usize> = HashMap::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let parsed = match format {
            ImportFormat::Telethon => session_only(line, parse_telethon(content)),
            ImportFormat::Pyrogram => session_only(line, parse_pyrogram(content)),
            ImportFormat::Jsonl => parse_json_line(line, content),
        };
        match parsed {
            Ok(account) => {
                let fingerprint = account.session.auth_key().fingerprint();
                if let Some(first) = seen.get(&fingerprint) {
                    report.errors.push(LineError {
                        line,
                        reason: format!("duplicate of line {first}"),
                    });
                } else {
                    seen.insert(fingerprint, line);
                    report.accounts.push(account);
                }
            }
            Err(reason) => report.errors.push(LineError { line, reason }),
        }
    }
    report
}

fn session_only(line: usize, session: Result<TelegramSession, SessionError>) -> Result<ImportedAccount, String> {
    let session = session.map_err(|e| e.to_string())?;
    Ok(ImportedAccount {
        line,
        session,
        phone: None,
        country: None,
        username: None,
        display_name: None,
        premium: false,
        account_created: None,
    })
}

const FIELDS: [&str; 8] = [
    "session",
    "format",
    "phone",
    "country",
    "username",
    "display_name",
    "premium",
    "account_created",
];

/// The fields of a JSON line, each still untyped so that a wrong type gets our own message, never serde's
/// (which would quote the value).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLine {
    session: Option<Value>,
    format: Option<Value>,
    phone: Option<Value>,
    country: Option<Value>,
    username: Option<Value>,
    display_name: Option<Value>,
    premium: Option<Value>,
    account_created: Option<Value>,
}

fn parse_json_line(line: usize, content: &str) -> Result<ImportedAccount, String> {
    let fields: JsonLine = serde_json::from_str(content).map_err(|e| json_reason(&e, content))?;

    let format = match fields.format {
        None | Some(Value::Null) => return Err("`format` is required (\"telethon\" or \"pyrogram\")".to_owned()),
        Some(Value::String(name)) if name == "telethon" => SessionFormat::Telethon,
        Some(Value::String(name)) if name == "pyrogram" => SessionFormat::Pyrogram,
        Some(_) => return Err("`format` must be \"telethon\" or \"pyrogram\"".to_owned()),
    };
    let session = match fields.session {
        None | Some(Value::Null) => return Err("`session` is required".to_owned()),
        Some(Value::String(session)) => format.parse_session(&session).map_err(|e| e.to_string())?,
        Some(_) => return Err("`session` must be a string".to_owned()),
    };
    let phone = optional_string(fields.phone.as_ref(), "phone")?
        .map(|raw| PhoneNumber::parse("phone", raw))
        .transpose()
        .map_err(|e| e.message)?;
    let country = optional_string(fields.country.as_ref(), "country")?
        .map(|raw| CountryCode::parse("country", raw))
        .transpose()
        .map_err(|e| e.message)?;
    let username = optional_string(fields.username.as_ref(), "username")?
        .map(|raw| TelegramUsername::parse("username", raw))
        .transpose()
        .map_err(|e| e.message)?;
    let display_name = optional_string(fields.display_name.as_ref(), "display_name")?
        .map(|raw| text::single_line("display_name", raw, MAX_DISPLAY_NAME_CHARS, "display name"))
        .transpose()
        .map_err(|e| e.message)?;
    let premium = match fields.premium {
        None | Some(Value::Null) => false,
        Some(Value::Bool(premium)) => premium,
        Some(_) => return Err("`premium` must be true or false".to_owned()),
    };
    let account_created = optional_string(fields.account_created.as_ref(), "account_created")?
        .map(parse_date)
        .transpose()?;

    Ok(ImportedAccount {
        line,
        session,
        phone,
        country,
        username,
        display_name,
        premium,
        account_created,
    })
}

fn optional_string<'a>(value: Option<&'a Value>, name: &str) -> Result<Option<&'a str>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(format!("`{name}` must be a string")),
    }
}

fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    let well_formed = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    well_formed
        .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| "`account_created` must be a date written YYYY-MM-DD".to_owned())
}

/// A reason for a line serde_json refused, built without quoting the line: syntax errors carry only fixed
/// texts and a column; data errors (wrong shape, unknown or repeated field) are diagnosed here.
fn json_reason(error: &serde_json::Error, content: &str) -> String {
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            let text = error.to_string();
            let what = text.split(" at line ").next().unwrap_or("syntax error");
            format!("not valid JSON: {what} at column {}", error.column())
        }
        Category::Data => match serde_json::from_str::<Value>(content) {
            Ok(Value::Object(map)) => match map.keys().find(|key| !FIELDS.contains(&key.as_str())) {
                Some(key) => match FIELDS.iter().find(|field| is_typo_of(key, field)) {
                    // The name is within two edits of a field we know, so it cannot be a secret.
                    Some(field) => format!("unknown field `{key}` (did you mean `{field}`?)"),
                    None => format!("a field is not known; the fields are {}", FIELDS.join(", ")),
                },
                None => "a field appears more than once".to_owned(),
            },
            Ok(_) => "each line must be a JSON object".to_owned(),
            Err(_) => "not valid JSON".to_owned(),
        },
    }
}

/// `name` is at most two single-character edits (ignoring case) away from `field`.
fn is_typo_of(name: &str, field: &str) -> bool {
    const MAX_EDITS: usize = 2;
    let name = name.to_ascii_lowercase();
    let (a, b) = (name.as_bytes(), field.as_bytes());
    if a.len().abs_diff(b.len()) > MAX_EDITS {
        return false;
    }
    // Levenshtein distance, one row at a time.
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()] <= MAX_EDITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_of_field_names_count_as_typos() {
        assert!(is_typo_of("premuim", "premium"));
        assert!(is_typo_of("Session", "session"));
        assert!(is_typo_of("displayname", "display_name"));
        assert!(is_typo_of("acount_created", "account_created"));
        assert!(!is_typo_of("sess", "session"));
        assert!(!is_typo_of("AQAAB_gB__79_Pv6", "session"));
        assert!(!is_typo_of("", "phone"));
    }
}
