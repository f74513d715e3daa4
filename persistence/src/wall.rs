//! The second tenant wall: every query on a tenant table declares its tenant to PostgreSQL first.
//!
//! Rule: a repository method touching a tenant table runs its statements on [`Walled::conn`], obtained from
//! [`Repo::wall`] with the [`Wall`] it is entitled to. On PostgreSQL that sets the transaction-local
//! `tgos.*` settings the row-level security policies read (migration `000003`), opening a short transaction
//! when the repository is on the pool; [`Walled::done`] commits it. Each wall sets all six settings, so a
//! transaction sees exactly the rows of its latest wall, never a union with an earlier one. Inside a
//! transaction the settings are sent only when they change ([`WallMemo`]): a run of reads behind one wall
//! sets it once. On SQLite the wall is a no-op and the scoped filters of each query are the only wall.

use sea_orm::{
    ConnectionTrait as _, DatabaseBackend, DatabaseExecutor, DatabaseTransaction, Statement, TransactionTrait as _,
};
use tgos_domain::ids::{TopUpId, UserId, WorkspaceId};
use tgos_domain::store::StoreResult;

use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};

/// What a statement is entitled to see.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wall<'a> {
    /// The rows of one workspace.
    Workspace(WorkspaceId),
    /// A signed-in user's own memberships, and the workspaces and keys they reach through them; for their data
    /// export, the invitations to their verified address and the audit entries where they are the actor (read
    /// only).
    User(UserId),
    /// The API key with this prefix (read only): authenticating a key finds its workspace.
    ApiKeyPrefix(&'a str),
    /// The invitation with this token hash (read only): accepting an invitation finds its workspace.
    InvitationToken(&'a [u8]),
    /// The top-up with this id (read only): a provider's signed notification finds its workspace.
    TopUp(TopUpId),
    /// A background sweep across workspaces, reading only what its policy shows it (`lease_expiry`: active
    /// leases that ran out).
    Sweep(&'static str),
    /// Erasing one workspace: its rows, as [`Wall::Workspace`], and the deletions only an erasure may make
    /// (`tgos.sweep = 'workspace_erasure'`: its outbox events).
    Erasure(WorkspaceId),
    /// No tenant: only rows that belong to no workspace (the account and platform audit chains, accounts on
    /// offer).
    NoTenant,
}

impl Wall<'_> {
    /// The values of `tgos.workspace_id`, `tgos.user_id`, `tgos.api_key_prefix`, `tgos.invitation_token`,
    /// `tgos.top_up_id`, `tgos.sweep`.
    fn settings(&self) -> [String; 6] {
        let mut values: [String; 6] = Default::default();
        match self {
            Wall::Workspace(id) => values[0] = id.to_string(),
            Wall::Erasure(id) => {
                values[0] = id.to_string();
                values[5] = "workspace_erasure".to_owned();
            }
            Wall::User(id) => values[1] = id.to_string(),
            Wall::ApiKeyPrefix(prefix) => values[2] = (*prefix).to_owned(),
            Wall::InvitationToken(hash) => values[3] = hex::encode(hash),
            Wall::TopUp(id) => values[4] = id.to_string(),
            Wall::Sweep(name) => values[5] = (*name).to_owned(),
            Wall::NoTenant => {}
        }
        values
    }
}

const SET_WALL: &str = "SELECT set_config('tgos.workspace_id', $1, true), set_config('tgos.user_id', $2, true), \
     set_config('tgos.api_key_prefix', $3, true), set_config('tgos.invitation_token', $4, true), \
     set_config('tgos.top_up_id', $5, true), set_config('tgos.sweep', $6, true)";

async fn set_wall(conn: &impl sea_orm::ConnectionTrait, settings: [String; 6]) -> StoreResult<()> {
    let [workspace, user, prefix, token, top_up, sweep] = settings;
    let statement = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        SET_WALL,
        [
            workspace.into(),
            user.into(),
            prefix.into(),
            token.into(),
            top_up.into(),
            sweep.into(),
        ],
    );
    conn.execute_raw(statement).await.store()?;
    Ok(())
}

/// The `tgos.*` settings a transaction holds now, as its last wall set them; empty for the pool and for a
/// transaction no wall has been set in. A transaction's settings change only through [`Repo::wall`] (the
/// store opens no savepoints, whose rollback would restore older settings behind the memo's back), so
/// skipping a wall equal to the memo runs the statements behind exactly that wall.
#[derive(Default)]
pub(crate) struct WallMemo(std::sync::Mutex<Option<[String; 6]>>);

impl WallMemo {
    fn holds(&self, settings: &[String; 6]) -> bool {
        self.0.lock().is_ok_and(|held| held.as_ref() == Some(settings))
    }

    /// Records `settings` (`Some`) once they are set, or that the settings are unknown (`None`) while they
    /// are being changed: a change cancelled midway must not leave the memo naming the old wall.
    fn record(&self, settings: Option<[String; 6]>) {
        if let Ok(mut held) = self.0.lock() {
            *held = settings;
        }
    }
}

/// A connection whose statements run behind a wall.
pub(crate) struct Walled<'c> {
    exec: DatabaseExecutor<'c>,
}

impl<'c> Walled<'c> {
    pub(crate) fn conn(&self) -> &DatabaseExecutor<'c> {
        &self.exec
    }

    /// Whether the wall opened a transaction of its own (on PostgreSQL, on the pool) that [`Walled::done`]
    /// commits.
    pub(crate) fn owns_transaction(&self) -> bool {
        matches!(self.exec, DatabaseExecutor::OwnedTransaction(_))
    }

    /// Commits the transaction the wall opened, if it opened one. Dropping instead rolls it back.
    pub(crate) async fn done(self) -> StoreResult<()> {
        if let DatabaseExecutor::OwnedTransaction(tx) = self.exec {
            tx.commit().await.store()?;
        }
        Ok(())
    }
}

impl<C: Conn> Repo<C> {
    /// This repository's connection behind `wall`.
    pub(crate) async fn wall(&self, wall: Wall<'_>) -> StoreResult<Walled<'_>> {
        let exec = self.0.executor();
        if exec.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(Walled { exec });
        }
        let settings = wall.settings();
        match exec {
            DatabaseExecutor::Connection(pool) => {
                let tx: DatabaseTransaction = pool.begin().await.store()?;
                let exec = DatabaseExecutor::OwnedTransaction(tx);
                set_wall(&exec, settings).await?;
                Ok(Walled { exec })
            }
            borrowed => {
                if !self.1.holds(&settings) {
                    self.1.record(None);
                    set_wall(&borrowed, settings.clone()).await?;
                    self.1.record(Some(settings));
                }
                Ok(Walled { exec: borrowed })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wall_sets_exactly_its_own_setting_and_clears_the_others() {
        let workspace = WorkspaceId::generate();
        let user = UserId::generate();
        assert_eq!(
            Wall::Workspace(workspace).settings(),
            [
                workspace.to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new()
            ]
        );
        assert_eq!(
            Wall::User(user).settings(),
            [
                String::new(),
                user.to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new()
            ]
        );
        assert_eq!(
            Wall::ApiKeyPrefix("abc123").settings(),
            [
                String::new(),
                String::new(),
                "abc123".to_owned(),
                String::new(),
                String::new(),
                String::new()
            ]
        );
        assert_eq!(
            Wall::InvitationToken(&[0x00, 0xab, 0xff]).settings(),
            [
                String::new(),
                String::new(),
                String::new(),
                "00abff".to_owned(),
                String::new(),
                String::new()
            ]
        );
        let top_up = TopUpId::generate();
        assert_eq!(Wall::TopUp(top_up).settings()[4], top_up.to_string());
        assert_eq!(Wall::Sweep("lease_expiry").settings()[5], "lease_expiry");
        assert_eq!(Wall::NoTenant.settings(), <[String; 6]>::default());
    }
}
