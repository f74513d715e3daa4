//! The pool page: every account with its status, price, health and holder (filtered by status, a page at a
//! time), a new daily price, retiring an account, and adding sandbox stock. Importing session files stays a
//! command (`tgos-console accounts import`): the file never passes through a browser, and the page says so.

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};
use tgos_domain::DomainError;
use tgos_domain::accounts::pool::{AccountStatus, PoolFilter};
use tgos_domain::billing::{Currency, Money};
use tgos_domain::ids::AccountId;
use tgos_domain::paging::PageRequest;

use super::Console;
use super::auth::{StaffSession, csrf_of, staff, staff_form};
use super::render::{status_of, text_of};
use crate::accounts::parse_currency;
use crate::accounts::pool::pool_page_json;
use crate::accounts::sandbox::{MAX_COUNT, add_sandbox as add_sandbox_accounts};

/// Accounts one page lists.
const PAGE: u64 = 50;

/// The import command, as the page shows it.
const IMPORT_COMMAND: &str =
    "tgos-console accounts import --format telethon|pyrogram|jsonl FILE --price-per-day MINOR [--currency USD]";

#[derive(Debug, Default, Deserialize)]
pub struct PoolQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    after: String,
}

fn frame(console: &Console, session: &StaffSession) -> Value {
    json!({ "staff": session.name, "csrf": csrf_of(console, session), "section": "pool" })
}

/// Back to the list, on the status filter the form came from.
fn back_to_list(status: &str) -> Response {
    let to = match AccountStatus::parse(status) {
        Some(status) => format!("/pool?status={}", status.as_str()),
        None => "/pool".to_owned(),
    };
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .finish()
}

/// The page of `query`, with what the last action said.
async fn pool_page(
    console: &Console,
    session: &StaffSession,
    query: &PoolQuery,
    said: (Option<String>, Option<String>),
    status: StatusCode,
) -> Response {
    let filter = PoolFilter {
        status: AccountStatus::parse(&query.status),
    };
    let after = query.after.parse::<AccountId>().ok();
    let listed = console
        .connection
        .accounts
        .pool_accounts(&session.principal, &filter, PageRequest::new(after, PAGE))
        .await;
    let page = match listed {
        Ok(page) => page,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "Refused", &text_of(&error), "/");
        }
    };
    if let Err(error) = console.compliance.record_view(session.context(), "pool", None).await {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/");
    }
    let mut context = frame(console, session);
    context["pool"] = pool_page_json(&page);
    context["statuses"] = json!(["AVAILABLE", "LEASED", "RETIRED"]);
    context["filter"] = json!({ "status": filter.status.map(AccountStatus::as_str).unwrap_or_default() });
    context["currencies"] = json!(["USD", "EUR", "GBP"]);
    context["import_command"] = json!(IMPORT_COMMAND);
    context["max_sandbox"] = json!(MAX_COUNT);
    context["error"] = json!(said.0);
    context["notice"] = json!(said.1);
    console.pages.page("pool.html", context, status)
}

/// `GET /pool?status=…&after=…`.
#[handler]
pub async fn list(console: Data<&Arc<Console>>, req: &Request, Query(query): Query<PoolQuery>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    pool_page(&console, &session, &query, (None, None), StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct PriceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    price_per_day: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    count: String,
    /// The status filter of the page the form was on.
    #[serde(default)]
    status: String,
}

impl PriceForm {
    /// The price the form names: minor units and a currency (USD when none is chosen).
    fn price(&self) -> Result<Money, DomainError> {
        let minor = self
            .price_per_day
            .trim()
            .parse::<i64>()
            .map_err(|_| DomainError::invalid("pricePerDay", "a whole number of minor units (cents)"))?;
        let currency = if self.currency.trim().is_empty() {
            Currency::USD
        } else {
            parse_currency(self.currency.trim()).map_err(|why| DomainError::invalid("currency", why))?
        };
        Ok(Money::new(minor, currency))
    }

    fn query(&self) -> PoolQuery {
        PoolQuery {
            status: self.status.clone(),
            after: String::new(),
        }
    }
}

/// `POST /pool/:id/reprice` and `POST /pool/:id/retire`.
#[handler]
pub async fn act(
    console: Data<&Arc<Console>>,
    req: &Request,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<PriceForm>,
) -> Response {
    let session = match staff_form(&console, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<AccountId>() else {
        return console
            .pages
            .message(StatusCode::NOT_FOUND, "Not found", "no such account", "/pool");
    };
    let accounts = &console.connection.accounts;
    let (principal, client) = (&session.principal, &session.client);
    let done = match action.as_str() {
        "reprice" => match form.price() {
            Ok(price) => accounts.reprice_account(principal, client, id, price).await.map(|_| ()),
            Err(error) => Err(error),
        },
        "retire" => accounts.retire_account(principal, client, id).await.map(|_| ()),
        _ => {
            return console
                .pages
                .message(StatusCode::NOT_FOUND, "Not found", "no such action", "/pool");
        }
    };
    match done {
        Ok(()) => back_to_list(&form.status),
        Err(error) => {
            let said = (Some(text_of(&error)), None);
            pool_page(&console, &session, &form.query(), said, status_of(&error)).await
        }
    }
}

/// `POST /pool/sandbox`: adds sandbox accounts (`create-sandbox`'s use case).
#[handler]
pub async fn add_sandbox(console: Data<&Arc<Console>>, req: &Request, Form(form): Form<PriceForm>) -> Response {
    let session = match staff_form(&console, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let added = async {
        let count = form
            .count
            .trim()
            .parse::<u16>()
            .map_err(|_| DomainError::invalid("count", format!("1 to {MAX_COUNT}")))?;
        let price = form.price()?;
        add_sandbox_accounts(&console.connection, &session.principal, &session.client, count, price).await
    }
    .await;
    let said = match &added {
        Ok(summary) => (
            None,
            Some(format!("Added {} sandbox accounts.", summary.accounts.len())),
        ),
        Err(error) => (Some(text_of(error)), None),
    };
    let status = added.as_ref().err().map_or(StatusCode::OK, status_of);
    pool_page(&console, &session, &form.query(), said, status).await
}
