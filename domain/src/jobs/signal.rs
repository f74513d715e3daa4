//! The wake-up use cases give the workers after committing jobs, so a job due now runs without waiting for
//! the next poll.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// Clone it into every use case that enqueues; the worker loop waits on it.
#[derive(Debug, Clone, Default)]
pub struct JobSignal {
    wake: Arc<Notify>,
}

impl JobSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Jobs were committed: the workers should claim now. A wake given while no worker waits is kept for the
    /// next wait.
    pub fn enqueued(&self) {
        self.wake.notify_one();
    }

    /// Returns when [`Self::enqueued`] was called (since the last wake was taken) or after `timeout`.
    pub async fn wait(&self, timeout: Duration) {
        let _woken_or_timed_out = tokio::time::timeout(timeout, self.wake.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn a_wake_given_before_the_wait_returns_it_at_once() {
        let signal = JobSignal::new();
        signal.clone().enqueued();
        let started = Instant::now();
        signal.wait(Duration::from_secs(30)).await;
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn without_a_wake_the_wait_ends_at_its_timeout() {
        let signal = JobSignal::new();
        let started = Instant::now();
        signal.wait(Duration::from_millis(50)).await;
        assert!(started.elapsed() >= Duration::from_millis(50));
    }

    #[tokio::test]
    async fn a_wake_during_the_wait_ends_it() {
        let signal = JobSignal::new();
        let waker = signal.clone();
        let started = Instant::now();
        let woken = tokio::spawn(async move { signal.wait(Duration::from_secs(30)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        waker.enqueued();
        woken.await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
