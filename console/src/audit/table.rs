//! An audit entry as the console shows and exports it: one list of columns for the page, CSV and JSON.
//!
//! Rules:
//! - **CSV is RFC 4180**: a header row, then one record per entry, each ended by CRLF; a field holding a
//!   comma, a double quote, CR or LF is quoted, a quote inside it doubled; an absent value is an empty field.
//! - **No formulas.** A field a spreadsheet would run as a formula (beginning with `=`, `+`, `-`, `@`, a tab
//!   or CR) gets a leading apostrophe, which spreadsheets show as text. The log holds text others chose (user
//!   agents, names, invitation addresses) and exports are opened in spreadsheets; a value never starts that
//!   way by our own making (ids, chain keys, times, JSON objects). The JSON export carries every value as
//!   stored.
//! - Times are RFC 3339 in UTC with microseconds, exactly as the entry was hashed.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};
use tgos_domain::audit::AuditRecord;

/// The columns of an exported entry, in order (CSV header, JSON keys).
pub const COLUMNS: [&str; 15] = [
    "at",
    "chain",
    "sequence",
    "id",
    "workspace_id",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "ip_address",
    "user_agent",
    "metadata",
    "redacted_at",
];

/// A time as exports write it.
pub fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The entry's values in [`COLUMNS`] order; `None` for an absent one.
pub fn cells(entry: &AuditRecord) -> [Option<String>; 15] {
    [
        Some(instant(entry.at)),
        Some(entry.chain.clone()),
        Some(entry.sequence.to_string()),
        Some(entry.id.to_string()),
        entry.workspace_id.map(|w| w.to_string()),
        Some(entry.actor.kind.as_str().to_owned()),
        entry.actor.id.clone(),
        Some(entry.actor.display_name.clone()),
        Some(entry.action.clone()),
        entry.target_type.clone(),
        entry.target_id.clone(),
        entry.ip_address.clone(),
        entry.user_agent.clone(),
        Some(entry.metadata.clone()),
        entry.seal.redacted_at().map(instant),
    ]
}

/// One CSV field: quoted when it must be, formula-safe.
pub fn csv_field(value: &str) -> Cow<'_, str> {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let value: Cow<'_, str> = if formula {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    };
    if value.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        value
    }
}

fn csv_record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (index, field) in fields.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(field));
    }
    out.push_str("\r\n");
}

/// The entries as a CSV file, header first.
pub fn csv(entries: &[AuditRecord]) -> String {
    let mut out = String::with_capacity(256 * (entries.len() + 1));
    csv_record(&mut out, COLUMNS);
    for entry in entries {
        let cells = cells(entry);
        csv_record(&mut out, cells.iter().map(|cell| cell.as_deref().unwrap_or("")));
    }
    out
}

/// The entry as a JSON object with the [`COLUMNS`] as keys: `sequence` a number, `metadata` the JSON it
/// holds, an absent value `null`.
pub fn json(entry: &AuditRecord) -> Value {
    let mut object = Map::new();
    for (column, cell) in COLUMNS.iter().zip(cells(entry)) {
        let value = match (*column, cell) {
            (_, None) => Value::Null,
            ("sequence", Some(_)) => Value::from(entry.sequence),
            ("metadata", Some(text)) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
            (_, Some(text)) => Value::String(text),
        };
        object.insert((*column).to_owned(), value);
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads back what [`csv`] writes (RFC 4180 records): the test's own small parser.
    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\r') if chars.peek() == Some(&'\n') => {}
                (false, '\n') => {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                (false, c) => field.push(c),
            }
        }
        records
    }

    #[test]
    fn plain_values_are_written_as_they_are() {
        for value in [
            "",
            "platform",
            "auth.signed_in",
            "127.0.0.1",
            "{}",
            "Mozilla/5.0 (X11; Linux)",
        ] {
            assert_eq!(csv_field(value), value);
        }
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        assert_eq!(csv_field("Acme, Inc"), "\"Acme, Inc\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(
            csv_field(r#"{"name":"Acme, \"Ltd\""}"#),
            r#""{""name"":""Acme, \""Ltd\""""}""#
        );
    }

    #[test]
    fn what_a_spreadsheet_would_run_is_written_as_text() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("a=b"), "a=b", "only a leading sign counts");
    }

    #[test]
    fn records_read_back_into_the_same_fields() {
        let rows: [[&str; 3]; 3] = [
            ["a,b", "say \"hi\"", "multi\r\nline"],
            ["", "plain", "\"\""],
            ["tail,", ",", "\n"],
        ];
        let mut text = String::new();
        for row in rows {
            csv_record(&mut text, row);
        }
        let expected: Vec<Vec<String>> = rows
            .iter()
            .map(|row| row.iter().map(|f| (*f).to_owned()).collect())
            .collect();
        assert_eq!(parse(&text), expected);
    }
}
