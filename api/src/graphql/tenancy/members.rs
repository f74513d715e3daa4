//! A workspace's members as a page.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::tenancy::records::MemberView;
use tgos_domain::tenancy::{TenancyService, TenantScope};

use super::types::Role;
use crate::graphql::errors::ApiResult;
use crate::graphql::paging::{connection, page_request};
use crate::graphql::service;

pub type MemberConnection = Connection<String, Member>;

/// `workspace.members`: ordered by account (VIEWER and above).
pub(crate) async fn page(
    ctx: &Context<'_>,
    scope: &TenantScope,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<MemberConnection> {
    let request = page_request(first, after)?;
    let page = service::<TenancyService>(ctx)?.members(scope, request).await?;
    Ok(connection(&request, page, |member| {
        (member.membership.user_id, Member::from(member))
    }))
}

/// The public part of a member's account.
#[derive(Debug, SimpleObject)]
pub struct MemberUser {
    pub id: ID,
    pub full_name: String,
    pub username: String,
    pub email: String,
}

#[derive(Debug, SimpleObject)]
pub struct Member {
    pub user: MemberUser,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

impl From<MemberView> for MemberUser {
    fn from(view: MemberView) -> Self {
        Self {
            id: ID(view.membership.user_id.to_string()),
            full_name: view.full_name,
            username: view.username,
            email: view.email,
        }
    }
}

impl From<MemberView> for Member {
    fn from(view: MemberView) -> Self {
        Self {
            role: view.membership.role.into(),
            joined_at: view.membership.joined_at,
            user: MemberUser::from(view),
        }
    }
}
