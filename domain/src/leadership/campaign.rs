//! One process's campaign for the leader-held work: take or renew every name, believe in what it holds only
//! while the margin lasts, and give everything back on a graceful stop.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::ports::LeaderLeaseRepository;
use crate::clock::Clock;

/// One process's leadership over some names (see the module rules in [`super`]).
#[derive(Clone)]
pub struct Leadership {
    inner: Arc<Inner>,
}

struct Inner {
    leases: Arc<dyn LeaderLeaseRepository>,
    clock: Arc<dyn Clock>,
    holder: String,
    lease: Duration,
    names: Vec<&'static str>,
    /// The names it believes it holds, and until when it believes so (two thirds of the lease after the last
    /// successful renewal).
    held: Mutex<BTreeMap<&'static str, DateTime<Utc>>>,
    /// Counts the takes of each name (not renewals), so the work of a name wakes when this process takes it.
    gained: BTreeMap<&'static str, watch::Sender<u64>>,
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("holder", &self.inner.holder)
            .field("lease", &self.inner.lease)
            .field("names", &self.inner.names)
            .finish_non_exhaustive()
    }
}

fn later(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by)
        .ok()
        .and_then(|by| at.checked_add_signed(by))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Leadership {
    /// A campaign of `holder` (unique per process: [`crate::jobs::unique_holder`]) for `names`, each lease
    /// lasting `lease` (at least three seconds, so a renewal every third of it is at least a second apart).
    pub fn new(
        leases: Arc<dyn LeaderLeaseRepository>,
        clock: Arc<dyn Clock>,
        holder: impl Into<String>,
        lease: Duration,
        names: &[&'static str],
    ) -> Self {
        let mut unique = names.to_vec();
        unique.sort_unstable();
        unique.dedup();
        Self {
            inner: Arc::new(Inner {
                leases,
                clock,
                holder: holder.into(),
                lease: lease.max(Duration::from_secs(3)),
                gained: unique.iter().map(|name| (*name, watch::Sender::new(0))).collect(),
                names: unique,
                held: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    pub fn holder(&self) -> &str {
        &self.inner.holder
    }

    pub fn lease(&self) -> Duration {
        self.inner.lease
    }

    /// How often [`Self::campaign_once`] should run: a third of the lease.
    pub fn renew_every(&self) -> Duration {
        self.inner.lease / 3
    }

    /// The handle the work of `name` checks before each step; its [`LeaderHandle::gained`] sees the takes
    /// after this call.
    pub fn handle(&self, name: &'static str) -> LeaderHandle {
        LeaderHandle {
            leadership: self.clone(),
            name,
            takes: self.inner.gained.get(name).map(watch::Sender::subscribe),
        }
    }

    /// Takes or renews every name it campaigns for, one conditional statement each; returns the names it
    /// holds afterwards. A name another process took is dropped (and logged); a statement that failed leaves
    /// the belief as it was, to run out at its margin unless the next round renews it.
    pub async fn campaign_once(&self) -> Vec<&'static str> {
        let inner = &self.inner;
        for name in &inner.names {
            let now = inner.clock.now();
            let until = later(now, inner.lease);
            match inner.leases.acquire_leadership(name, &inner.holder, until, now).await {
                Ok(true) => {
                    let believed = later(now, inner.lease * 2 / 3);
                    let before = self.lock().insert(name, believed);
                    if before.is_none_or(|until| until <= now) {
                        tracing::info!(name, holder = %inner.holder, "took the lead");
                        if let Some(gained) = inner.gained.get(name) {
                            gained.send_modify(|takes| *takes = takes.wrapping_add(1));
                        }
                    }
                }
                Ok(false) => {
                    if self.lock().remove(name).is_some() {
                        tracing::warn!(name, "another process holds the lead now; this one stops that work");
                    }
                }
                Err(error) => {
                    tracing::warn!(name, %error, "renewing the lead failed; retrying at the next round");
                }
            }
        }
        let now = inner.clock.now();
        self.lock()
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(name, _)| *name)
            .collect()
    }

    /// Whether this process holds `name` now, as far as it knows (no statement: it is checked before every
    /// step of the work).
    pub fn holds(&self, name: &str) -> bool {
        let now = self.inner.clock.now();
        self.lock().get(name).is_some_and(|until| *until > now)
    }

    /// Gives every name back (those this process holds; a release of a name held by another changes
    /// nothing), so another process takes them at its next round rather than after a lease. Call it after
    /// the work has stopped.
    pub async fn release_all(&self) {
        self.lock().clear();
        for name in &self.inner.names {
            match self.inner.leases.release_leadership(name, &self.inner.holder).await {
                Ok(true) => tracing::info!(name, "released the lead"),
                Ok(false) => {}
                Err(error) => tracing::warn!(name, %error, "releasing the lead failed; it lapses instead"),
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, DateTime<Utc>>> {
        self.inner.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the work of one name holds: whether to run a step now, and a wake when the lead is taken.
#[derive(Debug, Clone)]
pub struct LeaderHandle {
    leadership: Leadership,
    name: &'static str,
    /// The takes of the name; `None` for a name this process does not campaign for.
    takes: Option<watch::Receiver<u64>>,
}

impl LeaderHandle {
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether this process holds the name now ([`Leadership::holds`]).
    pub fn holds(&self) -> bool {
        self.leadership.holds(self.name)
    }

    /// Resolves when this process has taken the name (not on renewals) since the last call resolved or the
    /// handle was made, so no take between two waits is missed; never for a name it does not campaign for.
    pub async fn gained(&mut self) {
        let changed = match &mut self.takes {
            Some(takes) => takes.changed().await.is_ok(),
            None => false,
        };
        if !changed {
            std::future::pending::<()>().await;
        }
    }
}
