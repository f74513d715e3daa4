//! The schema as an [`Executor`] that gives every operation its own loaders and sends their batches only when
//! the operation has nothing left to do but wait.
//!
//! Rule: a batch goes out once every resolver that can run has run, so it holds every key the operation asks
//! for at that point, however long the page and however slow the machine. The loaders start a fetch by
//! handing it to their spawner; ours holds it back. Whenever the operation's future (or a subscription's
//! stream) returns `Pending` without having woken itself during that poll, no resolver can go on except
//! through I/O or the held fetches, and those are spawned then. A future that wakes itself while being polled
//! is yielding, not waiting (async-graphql's lists do so after polling every item once), and is polled again
//! first. A timer alone (async-graphql's default: send 1 ms after the first key) splits a page into several
//! batches whenever resolving it takes longer than that.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Data, Executor, Request, Response};
use futures_util::Stream;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use tgos_domain::accounts::pool::AccountsService;
use tgos_domain::inbox::InboxService;

use super::{Loaders, Reads};
use crate::graphql::AppSchema;

/// The schema, with each operation's nested reads batched. Cheap to make per request or connection.
#[derive(Clone)]
pub struct Batched {
    schema: AppSchema,
    reads: Reads,
}

impl std::fmt::Debug for Batched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batched").finish_non_exhaustive()
    }
}

impl Batched {
    pub fn new(
        schema: AppSchema,
        accounts: AccountsService,
        inbox: InboxService,
        automations: tgos_domain::automation::AutomationService,
    ) -> Self {
        Self {
            schema,
            reads: Reads {
                accounts,
                inbox,
                automations,
            },
        }
    }

    /// Fresh loaders for one operation, and the fetches they start, held back.
    fn loaders(&self) -> (Loaders, Arc<Held>) {
        let held = Arc::new(Held::default());
        let spawner = {
            let held = Arc::clone(&held);
            move |fetch| held.push(fetch)
        };
        // No wait of their own: the fetch starts only once the operation waits (above).
        let loaders = DataLoader::new(self.reads.clone(), spawner).delay(Duration::ZERO);
        (loaders, held)
    }
}

impl Executor for Batched {
    async fn execute(&self, request: Request) -> Response {
        let (loaders, held) = self.loaders();
        Driven {
            inner: Box::pin(self.schema.execute(request.data(loaders))),
            held,
        }
        .await
    }

    fn execute_stream(&self, request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let (loaders, held) = self.loaders();
        Box::pin(Driven {
            inner: Executor::execute_stream(&self.schema, request.data(loaders), session_data),
            held,
        })
    }
}

/// Fetches the loaders started and the operation has not yet waited for.
#[derive(Default)]
struct Held(Mutex<Vec<BoxFuture<'static, ()>>>);

impl Held {
    fn push(&self, fetch: BoxFuture<'static, ()>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(fetch);
    }

    fn release(&self) {
        let fetches = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for fetch in fetches {
            tokio::spawn(fetch);
        }
    }
}

/// Notes whether the operation woke itself while it was being polled, and passes every wake on.
struct Watch {
    woken: AtomicBool,
    outer: Waker,
}

impl Wake for Watch {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.outer.wake_by_ref();
    }
}

/// An operation's future or stream, releasing its held fetches whenever it waits.
struct Driven<T> {
    inner: T,
    held: Arc<Held>,
}

impl<T> Driven<T> {
    fn poll_with<R>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut T, &mut Context<'_>) -> Poll<R>,
    ) -> Poll<R> {
        let watch = Arc::new(Watch {
            woken: AtomicBool::new(false),
            outer: cx.waker().clone(),
        });
        let waker = Waker::from(Arc::clone(&watch));
        let polled = poll(&mut self.inner, &mut Context::from_waker(&waker));
        if polled.is_pending() && !watch.woken.load(Ordering::Acquire) {
            self.held.release();
        }
        polled
    }
}

impl<F: Future + Unpin> Future for Driven<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.poll_with(cx, |inner, cx| Pin::new(inner).poll(cx))
    }
}

impl<S: Stream + Unpin> Stream for Driven<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.poll_with(cx, |inner, cx| Pin::new(inner).poll_next(cx))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::sync::atomic::AtomicUsize;

    use async_graphql::dataloader::Loader;

    use super::*;

    /// Doubles its keys and counts its batches.
    struct Counting(Arc<AtomicUsize>);

    impl Loader<u32> for Counting {
        type Value = u32;
        type Error = Infallible;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Infallible> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(keys.iter().map(|key| (*key, key * 2)).collect())
        }
    }

    /// Yields once the way async-graphql's lists do: waking itself while being polled.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_batch_holds_every_key_however_slowly_they_are_asked_for() {
        let batches = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(Held::default());
        let spawner = {
            let held = Arc::clone(&held);
            move |fetch| held.push(fetch)
        };
        let loader = DataLoader::new(Counting(Arc::clone(&batches)), spawner).delay(Duration::ZERO);
        let asks = (0..100_u32).map(|key| {
            let loader = &loader;
            async move {
                for _ in 0..key % 3 {
                    YieldOnce(false).await;
                }
                // Resolving takes a while: the 100 keys take far longer than async-graphql's 1 ms timer.
                std::thread::sleep(Duration::from_micros(100));
                loader.load_one(key).await
            }
        });
        let found = Driven {
            inner: Box::pin(futures_util::future::join_all(asks)),
            held,
        }
        .await;
        for (key, value) in (0..100_u32).zip(found) {
            assert_eq!(value, Ok(Some(key * 2)));
        }
        assert_eq!(batches.load(Ordering::SeqCst), 1);
    }
}
