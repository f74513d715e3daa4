//! `tgos-console lawful list|show|approve|package|deliver`: reading the register and taking its steps.
//!
//! Rules: one use-case call each, as the signed-in staff member; what it answers is printed (the request with
//! its steps, the package's path, size and SHA-256), what it refuses exits with its status (`status`).

use tgos_domain::compliance::lawful::LawfulRequests;
use tgos_domain::ids::LawfulRequestId;
use tgos_domain::paging::PageRequest;

use super::output::{print_list, print_request};
use super::status::refusal;
use crate::session::StaffSession;

pub async fn list(
    lawful: &LawfulRequests,
    staff: &StaffSession,
    after: Option<LawfulRequestId>,
    limit: u64,
    json: bool,
) -> anyhow::Result<()> {
    let page = lawful
        .list(staff.principal(), PageRequest::new(after, limit))
        .await
        .map_err(|e| refusal(e, json))?;
    print_list(lawful, &page, json)
}

pub async fn show(
    lawful: &LawfulRequests,
    staff: &StaffSession,
    id: LawfulRequestId,
    json: bool,
) -> anyhow::Result<()> {
    let request = lawful.get(staff.principal(), id).await.map_err(|e| refusal(e, json))?;
    print_request(lawful, &request, json)
}

pub async fn approve(
    lawful: &LawfulRequests,
    staff: &StaffSession,
    id: LawfulRequestId,
    json: bool,
) -> anyhow::Result<()> {
    let request = lawful
        .approve(staff.principal(), staff.client(), id)
        .await
        .map_err(|e| refusal(e, json))?;
    print_request(lawful, &request, json)
}

pub async fn package(
    lawful: &LawfulRequests,
    staff: &StaffSession,
    id: LawfulRequestId,
    json: bool,
) -> anyhow::Result<()> {
    let request = lawful
        .build_package(staff.principal(), staff.client(), id)
        .await
        .map_err(|e| refusal(e, json))?;
    print_request(lawful, &request, json)
}

pub async fn deliver(
    lawful: &LawfulRequests,
    staff: &StaffSession,
    id: LawfulRequestId,
    note: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let request = lawful
        .mark_delivered(staff.principal(), staff.client(), id, note)
        .await
        .map_err(|e| refusal(e, json))?;
    print_request(lawful, &request, json)
}
