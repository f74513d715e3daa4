//! The register's rules without a database: the scope, the registration's fields, the two-person approval,
//! the order of the steps, and what the manifest says.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};

use super::package::{PackagedFile, manifest};
use super::records::{LawfulRequest, LawfulStep, NewLawfulRequest, PackageName, Stage, StepKind};
use super::rules::{self, check_approval, check_delivery, check_package};
use super::scope::{Category, DisclosureScope, MAX_SUBJECTS, Period, UserFile, WorkspaceFile};
use crate::error::{DomainError, FieldError};
use crate::identity::Principal;
use crate::ids::{ApiKeyId, LawfulRequestId, LawfulStepId, SessionId, UserId, WorkspaceId};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0).single().unwrap_or_default()
}

fn date(day: u32) -> NaiveDate {
    at(day).date_naive()
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

fn staff(id: UserId) -> Principal {
    Principal::User {
        user_id: id,
        session_id: SessionId::generate(),
        acts_as_staff: true,
        display_name: "staff".to_owned(),
    }
}

fn input() -> NewLawfulRequest {
    NewLawfulRequest {
        authority: "  Regional Court  ".to_owned(),
        reference: "RC-2026/114".to_owned(),
        legal_basis: "Order of 2 March 2026\nunder §100 of the code".to_owned(),
        received_on: date(3),
        due_on: date(17),
        users: vec![UserId::generate()],
        workspaces: vec![],
        categories: vec![Category::Profile, Category::Sessions],
        period_from: at(1),
        period_to: at(2),
        notes: Some("   ".to_owned()),
    }
}

fn registered(registrar: UserId) -> LawfulRequest {
    rules::registration(LawfulRequestId::generate(), input(), registrar, at(4)).unwrap_or_else(|e| panic!("{e}"))
}

fn step(request: &LawfulRequest, staff: UserId, kind: StepKind) -> LawfulStep {
    LawfulStep {
        id: LawfulStepId::generate(),
        request: request.id,
        staff,
        at: at(5),
        kind,
    }
}

fn packaged() -> StepKind {
    StepKind::Packaged {
        file: PackageName::new(LawfulRequestId::generate(), LawfulStepId::generate()),
        bytes: 10,
        sha256: "ab".repeat(32),
    }
}

#[test]
fn a_scope_names_someone_and_something() {
    let none = DisclosureScope::new(vec![], vec![], vec![], at(1), at(2))
        .err()
        .unwrap_or_default();
    assert_eq!(fields(&none), ["users", "categories"]);
    let one = DisclosureScope::new(vec![UserId::generate()], vec![], vec![Category::Profile], at(1), at(2));
    assert!(one.is_ok());
    let only_a_workspace = DisclosureScope::new(
        vec![],
        vec![WorkspaceId::generate()],
        vec![Category::Messages],
        at(1),
        at(2),
    );
    assert!(only_a_workspace.is_ok());
}

#[test]
fn a_category_must_name_records_of_a_subject_in_the_scope() {
    let user = vec![UserId::generate()];
    let workspace = vec![WorkspaceId::generate()];
    let cases = [
        (user.clone(), vec![], Category::Messages, false),
        (user.clone(), vec![], Category::Billing, false),
        (user.clone(), vec![], Category::Leases, false),
        (vec![], workspace.clone(), Category::Sessions, false),
        (user.clone(), vec![], Category::Sessions, true),
        (vec![], workspace.clone(), Category::Billing, true),
        (user.clone(), vec![], Category::Audit, true),
        (vec![], workspace.clone(), Category::Audit, true),
        (vec![], workspace.clone(), Category::Profile, true),
        (user.clone(), workspace.clone(), Category::Messages, true),
    ];
    for (users, workspaces, category, valid) in cases {
        let scope = DisclosureScope::new(users, workspaces, vec![category], at(1), at(2));
        assert_eq!(scope.is_ok(), valid, "{category}: {scope:?}");
        if let Err(errors) = scope {
            assert_eq!(fields(&errors), ["categories"], "{category}");
        }
    }
}

#[test]
fn a_period_starts_before_it_ends_and_holds_its_start_but_not_its_end() {
    assert!(Period::new(at(2), at(2)).is_err());
    assert!(Period::new(at(3), at(2)).is_err());
    let period = Period::new(at(1), at(2)).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(period.contains(at(1)));
    assert!(period.contains(at(2) - Duration::microseconds(1)));
    assert!(!period.contains(at(2)));
    assert!(!period.contains(at(1) - Duration::microseconds(1)));
    let reversed = DisclosureScope::new(vec![UserId::generate()], vec![], vec![Category::Audit], at(2), at(1));
    assert_eq!(fields(&reversed.err().unwrap_or_default()), ["period"]);
}

#[test]
fn repeats_count_once_categories_keep_their_fixed_order_and_subjects_are_bounded() {
    let user = UserId::generate();
    let scope = DisclosureScope::new(
        vec![user, user],
        vec![],
        vec![Category::Audit, Category::Profile, Category::Audit],
        at(1),
        at(2),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(scope.users(), [user]);
    assert_eq!(scope.categories(), [Category::Profile, Category::Audit]);
    assert!(scope.includes(Category::Audit) && !scope.includes(Category::Sessions));
    let many = (0..=MAX_SUBJECTS).map(|_| UserId::generate()).collect();
    let too_many = DisclosureScope::new(many, vec![], vec![Category::Profile], at(1), at(2));
    assert_eq!(fields(&too_many.err().unwrap_or_default()), ["users"]);
}

#[test]
fn every_file_of_a_package_belongs_to_exactly_one_category() {
    let user_files: Vec<UserFile> = Category::ALL
        .iter()
        .flat_map(|c| c.user_files().iter().copied())
        .collect();
    let workspace_files: Vec<WorkspaceFile> = Category::ALL
        .iter()
        .flat_map(|c| c.workspace_files().iter().copied())
        .collect();
    assert_eq!(user_files.iter().collect::<HashSet<_>>().len(), user_files.len());
    assert_eq!(
        workspace_files.iter().collect::<HashSet<_>>().len(),
        workspace_files.len()
    );
    assert_eq!(user_files.len(), 4, "every user file is reachable: {user_files:?}");
    assert_eq!(
        workspace_files.len(),
        9,
        "every workspace file is reachable: {workspace_files:?}"
    );
    let names: HashSet<_> = workspace_files.iter().map(|f| f.name()).collect();
    assert_eq!(names.len(), workspace_files.len(), "file names are distinct");
    for category in Category::ALL {
        assert_eq!(Category::parse(&category.as_str().to_lowercase()), Some(*category));
        assert!(
            !category.user_files().is_empty() || !category.workspace_files().is_empty(),
            "{category} adds a file somewhere"
        );
    }
    assert_eq!(Category::parse("PASSWORDS"), None);
}

#[test]
fn a_registration_keeps_its_fields_trimmed_and_reports_every_bad_one() {
    let registrar = UserId::generate();
    let request = registered(registrar);
    assert_eq!(request.authority, "Regional Court");
    assert_eq!(request.notes, None, "blank notes are none");
    assert_eq!(request.registered_by, registrar);
    assert_eq!(request.stage(), Stage::Registered);

    let bad = NewLawfulRequest {
        authority: " ".to_owned(),
        reference: "x".repeat(rules::MAX_NAME_CHARS + 1),
        legal_basis: "order\u{7}".to_owned(),
        received_on: date(5),
        due_on: date(4),
        categories: vec![],
        ..input()
    };
    let Err(DomainError::Invalid(errors)) = rules::registration(LawfulRequestId::generate(), bad, registrar, at(6))
    else {
        panic!("an invalid registration was accepted");
    };
    assert_eq!(
        fields(&errors),
        ["authority", "reference", "legalBasis", "dueOn", "categories"]
    );
    let future = NewLawfulRequest {
        received_on: date(7),
        due_on: date(9),
        ..input()
    };
    let Err(DomainError::Invalid(errors)) = rules::registration(LawfulRequestId::generate(), future, registrar, at(6))
    else {
        panic!("a request received in the future was accepted");
    };
    assert_eq!(fields(&errors), ["receivedOn"]);
}

#[test]
fn the_registrar_never_approves_and_only_staff_approve_once() {
    let registrar = UserId::generate();
    let request = registered(registrar);
    assert!(matches!(
        check_approval(&request, &staff(registrar)),
        Err(DomainError::Forbidden(_))
    ));
    let second = UserId::generate();
    assert_eq!(check_approval(&request, &staff(second)).ok(), Some(second));

    let not_staff = Principal::User {
        user_id: second,
        session_id: SessionId::generate(),
        acts_as_staff: false,
        display_name: "ada".to_owned(),
    };
    assert!(matches!(
        check_approval(&request, &not_staff),
        Err(DomainError::Forbidden(_))
    ));
    let key = Principal::ApiKey {
        key_id: ApiKeyId::generate(),
        workspace_id: WorkspaceId::generate(),
        scopes: vec![],
        display_name: "ci".to_owned(),
    };
    assert!(matches!(check_approval(&request, &key), Err(DomainError::Forbidden(_))));

    let approved = request.clone().with_step(step(&request, second, StepKind::Approved));
    assert_eq!(approved.stage(), Stage::Approved);
    let third = UserId::generate();
    assert!(matches!(
        check_approval(&approved, &staff(third)),
        Err(DomainError::Conflict { .. })
    ));
}

#[test]
fn a_package_follows_the_approval_and_a_delivery_follows_the_package_each_once() {
    let registrar = UserId::generate();
    let second = UserId::generate();
    let request = registered(registrar);
    assert!(matches!(check_package(&request), Err(DomainError::Conflict { .. })));
    assert!(matches!(check_delivery(&request), Err(DomainError::Conflict { .. })));

    let approved = request.clone().with_step(step(&request, second, StepKind::Approved));
    assert!(check_package(&approved).is_ok());
    assert!(matches!(check_delivery(&approved), Err(DomainError::Conflict { .. })));

    let packaged = approved.clone().with_step(step(&request, registrar, packaged()));
    assert_eq!(packaged.stage(), Stage::Packaged);
    assert!(matches!(check_package(&packaged), Err(DomainError::Conflict { .. })));
    assert!(check_delivery(&packaged).is_ok());

    let note = StepKind::Delivered {
        note: Some("registered post".to_owned()),
    };
    let delivered = packaged.clone().with_step(step(&request, second, note));
    assert_eq!(delivered.stage(), Stage::Delivered);
    assert!(matches!(check_delivery(&delivered), Err(DomainError::Conflict { .. })));
}

#[test]
fn a_folded_step_never_changes_and_a_step_of_another_request_is_ignored() {
    let request = registered(UserId::generate());
    let first = UserId::generate();
    let approved = request.clone().with_step(step(&request, first, StepKind::Approved));
    let again = approved
        .clone()
        .with_step(step(&request, UserId::generate(), StepKind::Approved));
    assert_eq!(again, approved, "a second approval does not replace the first");
    let other = registered(UserId::generate());
    assert_eq!(
        request.clone().with_step(step(&other, first, StepKind::Approved)),
        request
    );
}

#[test]
fn a_package_name_is_made_of_ids_only() {
    let name = PackageName::new(LawfulRequestId::generate(), LawfulStepId::generate());
    assert_eq!(PackageName::parse(name.as_str()), Some(name.clone()));
    for bad in [
        "../etc/passwd.zip",
        "x.zip",
        &format!("{}.zip", LawfulRequestId::generate()),
        &format!("{}/{}", LawfulRequestId::generate(), name),
        name.as_str().trim_end_matches(".zip"),
    ] {
        assert_eq!(PackageName::parse(bad), None, "{bad}");
    }
}

#[test]
fn a_delivery_note_is_optional_and_bounded() {
    assert_eq!(rules::delivery_note(None), Ok(None));
    assert_eq!(rules::delivery_note(Some("  ")), Ok(None));
    assert_eq!(rules::delivery_note(Some(" by hand ")), Ok(Some("by hand".to_owned())));
    assert!(rules::delivery_note(Some(&"x".repeat(rules::MAX_NOTES_CHARS + 1))).is_err());
}

#[test]
fn the_manifest_states_the_request_scope_and_files_and_names_no_staff_member() {
    let registrar = UserId::generate();
    let request = registered(registrar);
    let files = vec![PackagedFile {
        name: format!("users/{}/profile.json", request.scope.users()[0]),
        category: Category::Profile,
        records: 1,
        sha256: "cd".repeat(32),
    }];
    let manifest = manifest(&request, &files, at(6));
    assert_eq!(manifest["request"]["reference"], "RC-2026/114");
    assert_eq!(manifest["request"]["received_on"], "2026-03-03");
    assert_eq!(
        manifest["scope"]["categories"],
        serde_json::json!(["PROFILE", "SESSIONS"])
    );
    assert_eq!(manifest["scope"]["period"]["from"], "2026-03-01T00:00:00.000000Z");
    assert_eq!(manifest["files"][0]["sha256"], "cd".repeat(32));
    assert_eq!(manifest["files"][0]["records"], 1);
    assert!(!manifest.to_string().contains(&registrar.to_string()));
}
