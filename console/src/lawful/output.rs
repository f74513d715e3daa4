//! How the `lawful` commands print a request: JSON (`--json`, one object; a list is `{"requests", "hasNext"}`)
//! or text for a person. Both say the same: the registration, its scope, its stage and each step taken.

use std::io::Write as _;

use serde_json::{Value, json};
use tgos_domain::compliance::lawful::{LawfulRequest, LawfulRequests};
use tgos_domain::paging::Page;

/// `request` as JSON; the package's path is where this console finds it.
pub fn to_json(lawful: &LawfulRequests, request: &LawfulRequest) -> Value {
    let scope = &request.scope;
    json!({
        "id": request.id,
        "authority": request.authority,
        "reference": request.reference,
        "legalBasis": request.legal_basis,
        "receivedOn": request.received_on.to_string(),
        "dueOn": request.due_on.to_string(),
        "stage": request.stage().as_str(),
        "scope": {
            "users": scope.users(),
            "workspaces": scope.workspaces(),
            "categories": scope.categories().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "period": { "from": scope.period().from(), "to": scope.period().to() },
        },
        "notes": request.notes,
        "registeredBy": request.registered_by,
        "registeredAt": request.registered_at,
        "approval": request.approval.as_ref().map(|a| json!({ "by": a.by, "at": a.at })),
        "package": request.package.as_ref().map(|p| json!({
            "file": p.file.as_str(),
            "path": lawful.package_path(request).map(|path| path.display().to_string()),
            "bytes": p.bytes,
            "sha256": p.sha256,
            "builtBy": p.built_by,
            "builtAt": p.built_at,
        })),
        "delivery": request.delivery.as_ref().map(|d| json!({ "by": d.by, "at": d.at, "note": d.note })),
    })
}

pub fn print_request(lawful: &LawfulRequests, request: &LawfulRequest, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", to_json(lawful, request))?;
        return Ok(());
    }
    let scope = &request.scope;
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join(", ")
        }
    };
    writeln!(out, "request      {}", request.id)?;
    writeln!(out, "stage        {}", request.stage())?;
    writeln!(out, "authority    {}", request.authority)?;
    writeln!(out, "reference    {}", request.reference)?;
    writeln!(
        out,
        "legal basis  {}",
        request.legal_basis.replace('\n', "\n             ")
    )?;
    writeln!(out, "received     {}, due {}", request.received_on, request.due_on)?;
    writeln!(
        out,
        "users        {}",
        list(scope.users().iter().map(ToString::to_string).collect())
    )?;
    writeln!(
        out,
        "workspaces   {}",
        list(scope.workspaces().iter().map(ToString::to_string).collect())
    )?;
    writeln!(
        out,
        "categories   {}",
        list(scope.categories().iter().map(ToString::to_string).collect())
    )?;
    writeln!(
        out,
        "period       from {} to {} (excluded)",
        scope.period().from().to_rfc3339(),
        scope.period().to().to_rfc3339()
    )?;
    if let Some(notes) = &request.notes {
        writeln!(out, "notes        {notes}")?;
    }
    writeln!(
        out,
        "registered   by {} at {}",
        request.registered_by,
        request.registered_at.to_rfc3339()
    )?;
    if let Some(approval) = &request.approval {
        writeln!(out, "approved     by {} at {}", approval.by, approval.at.to_rfc3339())?;
    }
    if let Some(package) = &request.package {
        let path = lawful
            .package_path(request)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        writeln!(out, "package      {path}")?;
        writeln!(out, "             {} bytes, sha256 {}", package.bytes, package.sha256)?;
        writeln!(
            out,
            "             built by {} at {}",
            package.built_by,
            package.built_at.to_rfc3339()
        )?;
    }
    if let Some(delivery) = &request.delivery {
        let note = delivery.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        writeln!(
            out,
            "delivered    by {} at {}{note}",
            delivery.by,
            delivery.at.to_rfc3339()
        )?;
    }
    Ok(())
}

pub fn print_list(lawful: &LawfulRequests, page: &Page<LawfulRequest>, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let requests: Vec<Value> = page.items.iter().map(|r| to_json(lawful, r)).collect();
        writeln!(out, "{}", json!({ "requests": requests, "hasNext": page.has_next }))?;
        return Ok(());
    }
    if page.items.is_empty() {
        writeln!(out, "no lawful requests")?;
    }
    for request in &page.items {
        writeln!(
            out,
            "{} {:<10} due {} {} {}",
            request.id,
            request.stage().as_str(),
            request.due_on,
            request.authority,
            request.reference
        )?;
    }
    if let Some(last) = page.items.last().filter(|_| page.has_next) {
        writeln!(out, "more: --after {}", last.id)?;
    }
    Ok(())
}
