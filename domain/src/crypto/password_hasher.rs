//! Password hashing with argon2id, off the async workers and with bounded admission.
//!
//! Rules:
//! - Parameters are OWASP's for argon2id: m = 19 MiB, t = 2, p = 1.
//! - Hashing runs on the blocking pool behind a semaphore sized to the cores (all but one), so it never
//!   stalls the async workers that serve other requests.
//! - Admission is bounded: when every permit is busy and the queue is full, or a caller waited too long, the
//!   call fails with `RateLimited` instead of queueing without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{DomainError, DomainResult};

/// Hashes and verifies passwords.
#[async_trait]
pub trait PasswordHasher: Send + Sync + std::fmt::Debug {
    /// The PHC string of a new hash.
    async fn hash(&self, password: &SecretString) -> DomainResult<String>;
    /// Whether `password` matches `phc`. A malformed stored hash is an internal error, not a mismatch.
    async fn verify(&self, password: &SecretString, phc: &str) -> DomainResult<bool>;
    /// Spends the same effort as a real verification, so an unknown login takes as long as a known one.
    async fn verify_dummy(&self, password: &SecretString) -> DomainResult<()>;
}

/// How many hashes may run and wait at once.
#[derive(Debug, Clone, Copy)]
pub struct HashingLimits {
    /// Concurrent hashes (the cores).
    pub concurrency: usize,
    /// Callers allowed to wait for a permit; beyond this the call is refused.
    pub max_waiting: usize,
    /// How long a caller may wait for a permit.
    pub max_wait: Duration,
}

impl HashingLimits {
    /// One hash per core but one: a core stays free for the async workers and the database, so a sign-in
    /// storm cannot starve every other request (measured in docs/PERFORMANCE.md). At least one.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            concurrency: cores.saturating_sub(1).max(1),
            max_waiting: cores * 32,
            max_wait: Duration::from_secs(5),
        }
    }
}

#[derive(Debug)]
pub struct Argon2Pool {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    limits: HashingLimits,
    dummy_hash: String,
}

fn argon2() -> DomainResult<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(DomainError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_now(password: &str) -> DomainResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(DomainError::internal)
}

fn verify_now(password: &str, phc: &str) -> DomainResult<bool> {
    let parsed = PasswordHash::new(phc).map_err(DomainError::internal)?;
    match argon2()?.verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(other) => Err(DomainError::internal(other)),
    }
}

impl Argon2Pool {
    pub fn new(limits: HashingLimits) -> DomainResult<Self> {
        Ok(Self {
            permits: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            limits,
            dummy_hash: hash_now("a password nobody has, for timing")?,
        })
    }

    async fn admit(&self) -> DomainResult<OwnedSemaphorePermit> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        let result = if queued >= self.limits.max_waiting {
            Err(DomainError::RateLimited { retry_after_secs: 1 })
        } else {
            match tokio::time::timeout(self.limits.max_wait, Arc::clone(&self.permits).acquire_owned()).await {
                Ok(Ok(permit)) => Ok(permit),
                Ok(Err(closed)) => Err(DomainError::internal(closed)),
                Err(_elapsed) => Err(DomainError::RateLimited { retry_after_secs: 1 }),
            }
        };
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        result
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> DomainResult<T> + Send + 'static) -> DomainResult<T> {
        let permit = self.admit().await?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(DomainError::internal)?
    }
}

#[async_trait]
impl PasswordHasher for Argon2Pool {
    async fn hash(&self, password: &SecretString) -> DomainResult<String> {
        let password = password.clone();
        self.run(move || hash_now(password.expose_secret())).await
    }

    async fn verify(&self, password: &SecretString, phc: &str) -> DomainResult<bool> {
        let password = password.clone();
        let phc = phc.to_owned();
        self.run(move || verify_now(password.expose_secret(), &phc)).await
    }

    async fn verify_dummy(&self, password: &SecretString) -> DomainResult<()> {
        self.verify(password, &self.dummy_hash.clone()).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[tokio::test]
    async fn hash_verifies_only_the_same_password() -> DomainResult<()> {
        let pool = Argon2Pool::new(HashingLimits::for_this_machine())?;
        let phc = pool.hash(&secret("correct horse battery")).await?;
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(pool.verify(&secret("correct horse battery"), &phc).await?);
        assert!(!pool.verify(&secret("correct horse batterY"), &phc).await?);
        Ok(())
    }

    #[tokio::test]
    async fn saturated_pool_refuses_instead_of_queueing() -> DomainResult<()> {
        let pool = Arc::new(Argon2Pool::new(HashingLimits {
            concurrency: 1,
            max_waiting: 1,
            max_wait: Duration::from_secs(30),
        })?);
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let pool = Arc::clone(&pool);
                tokio::spawn(async move { pool.hash(&secret("some long password")).await })
            })
            .collect();
        let mut refused = 0;
        let mut hashed = 0;
        for call in calls {
            match call.await.map_err(DomainError::internal)? {
                Ok(_) => hashed += 1,
                Err(DomainError::RateLimited { .. }) => refused += 1,
                Err(other) => return Err(other),
            }
        }
        assert!(hashed >= 1, "at least the first call is admitted");
        assert!(refused >= 1, "a full queue refuses further callers");
        assert_eq!(hashed + refused, 6);
        Ok(())
    }
}
