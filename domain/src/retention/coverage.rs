//! Checks a database schema against the retention table.
//!
//! Rule: every table has exactly one row class, every column is covered exactly once (by a column-level
//! class, or else by its table's row class), and every table and column a class names exists. The check is
//! pure; the classification test feeds it the live schema of a freshly migrated database.

use std::collections::{BTreeMap, BTreeSet};

use super::classes::RetentionClass;

/// What is wrong between a schema and the classes, one line each.
pub fn problems(classes: &[RetentionClass], schema: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut row_class: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut column_class: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for class in classes {
        for table in class.row_tables() {
            row_class.entry(table).or_default().push(class.name);
        }
        for (table, column) in class.columns() {
            column_class.entry((table, column)).or_default().push(class.name);
        }
    }
    for (table, classes) in &row_class {
        if !schema.contains_key(*table) {
            problems.push(format!(
                "class {} names table {table}, which does not exist",
                classes.join(", ")
            ));
        }
        if classes.len() > 1 {
            problems.push(format!(
                "table {table} is in more than one class: {}",
                classes.join(", ")
            ));
        }
    }
    for ((table, column), classes) in &column_class {
        if !schema.get(*table).is_some_and(|columns| columns.contains(*column)) {
            problems.push(format!(
                "class {} names column {table}.{column}, which does not exist",
                classes.join(", ")
            ));
        }
        if classes.len() > 1 {
            problems.push(format!(
                "column {table}.{column} is covered more than once: {}",
                classes.join(", ")
            ));
        }
    }
    for (table, columns) in schema {
        if !row_class.contains_key(table.as_str()) {
            let unclassified: Vec<&str> = columns
                .iter()
                .map(String::as_str)
                .filter(|column| !column_class.contains_key(&(table.as_str(), *column)))
                .collect();
            problems.push(format!(
                "table {table} is in no retention class (columns not classified: {})",
                unclassified.join(", ")
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retention::classes::{Action, Cover, Keep, Purge};
    use crate::retention::windows::Window;

    fn schema(tables: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        tables
            .iter()
            .map(|(t, cs)| ((*t).to_owned(), cs.iter().map(|c| (*c).to_owned()).collect()))
            .collect()
    }

    const fn class(name: &'static str, covers: &'static [Cover]) -> RetentionClass {
        RetentionClass {
            name,
            covers,
            why: "",
            keep: Keep::Window(Window::Telemetry),
            action: Action::Purge(Purge::SessionTelemetry),
        }
    }

    #[test]
    fn a_schema_fully_classified_has_no_problem() {
        let classes = [
            class("a", &[Cover::Rows("sessions")]),
            class("b", &[Cover::Columns("sessions", &["ip"])]),
        ];
        assert_eq!(
            problems(&classes, &schema(&[("sessions", &["id", "ip"])])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_unclassified_table_a_doubly_covered_column_and_a_missing_column_are_each_named() {
        let classes = [
            class("a", &[Cover::Rows("sessions")]),
            class("b", &[Cover::Columns("sessions", &["ip", "gone"])]),
            class("c", &[Cover::Columns("sessions", &["ip"]), Cover::Rows("nowhere")]),
        ];
        let found = problems(
            &classes,
            &schema(&[("sessions", &["id", "ip"]), ("notes", &["id", "text"])]),
        );
        assert_eq!(
            found,
            vec![
                "class c names table nowhere, which does not exist".to_owned(),
                "class b names column sessions.gone, which does not exist".to_owned(),
                "column sessions.ip is covered more than once: b, c".to_owned(),
                "table notes is in no retention class (columns not classified: id, text)".to_owned(),
            ]
        );
    }

    #[test]
    fn a_table_in_two_row_classes_is_named() {
        let classes = [class("a", &[Cover::Rows("t")]), class("b", &[Cover::Rows("t")])];
        assert_eq!(
            problems(&classes, &schema(&[("t", &["id"])])),
            vec!["table t is in more than one class: a, b".to_owned()]
        );
    }

    #[test]
    fn every_class_name_is_unique() {
        let names: BTreeSet<&str> = crate::retention::CLASSES.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), crate::retention::CLASSES.len());
    }
}
