//! Whole import files: skipping, line numbers, JSON lines, duplicates, and reasons that quote nothing.

use chrono::NaiveDate;

use super::golden::{PYROGRAM_351, PYROGRAM_356, PYROGRAM_362, TELETHON_IPV4, TELETHON_IPV6, key_a, key_b};
use super::{assert_does_not_quote, assert_no_trace_of};
use crate::accounts::{ImportFormat, ImportReport, LineError, parse_import};

fn lines_of(report: &ImportReport) -> Vec<usize> {
    report.accounts.iter().map(|a| a.line).collect()
}

fn error(line: usize, reason: &str) -> LineError {
    LineError {
        line,
        reason: reason.to_owned(),
    }
}

fn assert_reasons_quote_nothing(report: &ImportReport) {
    for LineError { reason, .. } in &report.errors {
        for secret in [TELETHON_IPV4, TELETHON_IPV6, PYROGRAM_351, PYROGRAM_356, PYROGRAM_362] {
            assert_does_not_quote(reason, secret);
        }
        assert_no_trace_of(reason, &key_a());
        assert_no_trace_of(reason, &key_b());
    }
}

#[test]
fn a_telethon_file_skips_blanks_and_comments_and_numbers_lines_from_one() {
    let text = format!(
        "\u{feff}# exported 2025-01-02\n\n   {TELETHON_IPV4}   \r\n\t\n{}\n# {TELETHON_IPV6}\n{TELETHON_IPV6}\n",
        TELETHON_IPV6.replacen('1', "2", 1)
    );
    let report = parse_import(ImportFormat::Telethon, &text);
    assert_eq!(lines_of(&report), vec![3, 7]);
    assert_eq!(
        report.errors,
        vec![error(5, "a Telethon session string must start with version 1")]
    );
    assert_eq!(report.accounts[0].session.dc_id().get(), 2);
    assert!(report.accounts[0].phone.is_none() && !report.accounts[0].premium);
    assert_reasons_quote_nothing(&report);
}

#[test]
fn a_pyrogram_file_reads_every_layout_and_names_the_accepted_lengths() {
    let text = format!("{PYROGRAM_351}\n{PYROGRAM_356}\n{PYROGRAM_362}\n{TELETHON_IPV4}\n");
    let report = parse_import(ImportFormat::Pyrogram, &text);
    assert_eq!(lines_of(&report), vec![1, 2, 3]);
    assert_eq!(
        report.errors,
        vec![error(
            4,
            "a Pyrogram session string must be 351, 356 or 362 characters long without = padding, this one has 353"
        )]
    );
    assert_reasons_quote_nothing(&report);
}

#[test]
fn the_same_key_twice_in_a_file_is_refused_on_the_later_line() {
    let text = format!(
        "{TELETHON_IPV4}\n{TELETHON_IPV6}\n\n{}\n",
        TELETHON_IPV4.trim_end_matches('=')
    );
    let report = parse_import(ImportFormat::Telethon, &text);
    assert_eq!(lines_of(&report), vec![1, 2]);
    assert_eq!(report.errors, vec![error(4, "duplicate of line 1")]);
}

#[test]
fn a_json_line_with_every_field_gives_a_complete_account() {
    let text = format!(
        r#"{{"session": "{PYROGRAM_356}", "format": "pyrogram", "phone": "+44 7911 123456", "country": "GB", "username": "@Ada_Lovelace", "display_name": "  Ada Lovelace ", "premium": true, "account_created": "2019-03-07"}}"#
    );
    let report = parse_import(ImportFormat::Jsonl, &text);
    assert_eq!(report.errors, vec![]);
    let [account] = report.accounts.as_slice() else {
        panic!("one account expected, got {:?}", report.accounts);
    };
    assert_eq!(account.line, 1);
    assert_eq!(account.session.user_id(), Some(6_123_456_789));
    assert_eq!(account.phone.as_ref().map(|p| p.as_e164()), Some("+447911123456"));
    assert_eq!(account.country.map(|c| c.as_str().to_owned()), Some("GB".to_owned()));
    assert_eq!(account.username.as_ref().map(|u| u.as_str()), Some("Ada_Lovelace"));
    assert_eq!(account.display_name.as_deref(), Some("Ada Lovelace"));
    assert!(account.premium);
    assert_eq!(account.account_created, NaiveDate::from_ymd_opt(2019, 3, 7));

    let debug = format!("{account:?}");
    assert!(!debug.contains("7911123456"), "{debug}");
    assert!(debug.contains("+44 ••••••••56"), "{debug}");
}

#[test]
fn a_json_line_needs_only_session_and_format_and_takes_null_as_absent() {
    let text = format!(
        "{{\"session\":\"{TELETHON_IPV4}\",\"format\":\"telethon\"}}\n{{\"session\":\"{PYROGRAM_351}\",\"format\":\"pyrogram\",\"phone\":null,\"premium\":null}}"
    );
    let report = parse_import(ImportFormat::Jsonl, &text);
    assert_eq!(report.errors, vec![]);
    assert_eq!(lines_of(&report), vec![1, 2]);
    assert!(
        report
            .accounts
            .iter()
            .all(|a| a.phone.is_none() && !a.premium && a.username.is_none())
    );
}

#[test]
fn each_bad_json_line_is_refused_with_its_line_number_and_reason() {
    let telethon = |extra: &str| format!(r#"{{"session": "{TELETHON_IPV4}", "format": "telethon"{extra}}}"#);
    let lines = [
        /* 1 */ telethon(""),
        /* 2 */ format!(r#"{{"session": "{TELETHON_IPV4}", "format": "telethon""#),
        /* 3 */ format!(r#"["{TELETHON_IPV6}"]"#),
        /* 4 */ format!(r#""{TELETHON_IPV6}""#),
        /* 5 */ r#"{"format": "telethon"}"#.to_owned(),
        /* 6 */ format!(r#"{{"session": "{TELETHON_IPV6}"}}"#),
        /* 7 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "Telethon"}}"#),
        /* 8 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "{TELETHON_IPV6}"}}"#),
        /* 9 */ r#"{"session": 12345, "format": "telethon"}"#.to_owned(),
        /* 10 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "premuim": true}}"#),
        /* 11 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "{PYROGRAM_351}": 1}}"#),
        /* 12 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "format": "pyrogram"}}"#),
        /* 13 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "phone": "447911123456"}}"#),
        /* 14 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "country": "UK"}}"#),
        /* 15 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "username": "1ada"}}"#),
        /* 16 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "display_name": "  "}}"#),
        /* 17 */
        format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "premium": "{PYROGRAM_362}"}}"#),
        /* 18 */
        format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "account_created": "07/03/2019"}}"#),
        /* 19 */
        format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "account_created": "2019-02-30"}}"#),
        /* 20 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon", "phone": 447911123456}}"#),
        /* 21 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "pyrogram"}}"#),
        /* 22 */ format!(r#"{{"session": "{PYROGRAM_351}", "format": "telethon"}}"#),
        /* 23 */ format!(r#"{{"session": "{PYROGRAM_362}", "format": "pyrogram"}}"#),
        /* 24 */ format!(r#"{{"session": "{TELETHON_IPV6}", "format": "telethon"}}"#),
        /* 25 */ format!(r#"{{"session": "{PYROGRAM_362}", "format": "pyrogram"}}"#),
        /* 26 */ telethon(""),
    ];
    let report = parse_import(ImportFormat::Jsonl, &lines.join("\n"));
    assert_eq!(lines_of(&report), vec![1, 23]);
    let expected = [
        error(2, "not valid JSON: EOF while parsing an object at column 389"),
        error(3, "each line must be a JSON object"),
        error(4, "each line must be a JSON object"),
        error(5, "`session` is required"),
        error(6, "`format` is required (\"telethon\" or \"pyrogram\")"),
        error(7, "`format` must be \"telethon\" or \"pyrogram\""),
        error(8, "`format` must be \"telethon\" or \"pyrogram\""),
        error(9, "`session` must be a string"),
        error(10, "unknown field `premuim` (did you mean `premium`?)"),
        error(
            11,
            "a field is not known; the fields are session, format, phone, country, username, display_name, premium, account_created",
        ),
        error(12, "a field appears more than once"),
        error(13, "phone number must start with + and the country code"),
        error(14, "country is not an assigned ISO 3166-1 alpha-2 code"),
        error(15, "username must start with a letter"),
        error(16, "display name is required"),
        error(17, "`premium` must be true or false"),
        error(18, "`account_created` must be a date written YYYY-MM-DD"),
        error(19, "`account_created` must be a date written YYYY-MM-DD"),
        error(20, "`phone` must be a string"),
        error(
            21,
            "a Pyrogram session string must be 351, 356 or 362 characters long without = padding, this one has 369",
        ),
        error(22, "a Telethon session string must start with version 1"),
        error(24, "duplicate of line 23"),
        error(25, "duplicate of line 23"),
        error(26, "duplicate of line 1"),
    ];
    assert_eq!(report.errors, expected);
    assert_reasons_quote_nothing(&report);
}

#[test]
fn a_line_error_displays_with_its_line_number() {
    assert_eq!(
        error(7, "duplicate of line 3").to_string(),
        "line 7: duplicate of line 3"
    );
}
