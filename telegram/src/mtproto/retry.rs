//! When the adapter repeats a request by itself: almost never.
//!
//! Rules: a `FLOOD_WAIT` of at most [`SHORT_WAIT`] is waited out once and the request repeated once; a
//! longer one is returned at once, so the account's health records the cooldown and nothing else is sent
//! until it ends. An I/O failure is repeated once after a second (a new connection). Nothing is repeated a
//! second time: no request is ever retried in a loop.

use std::ops::ControlFlow;
use std::time::Duration;

use grammers_mtsender::{InvocationError, RetryContext, RetryPolicy, RpcError};

/// The longest flood wait the adapter waits out itself.
pub const SHORT_WAIT: Duration = Duration::from_secs(5);
/// The pause before repeating a request whose connection failed.
pub const IO_PAUSE: Duration = Duration::from_secs(1);

/// The adapter's [`RetryPolicy`] (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitOnceThenSurface;

impl RetryPolicy for WaitOnceThenSurface {
    fn should_retry(&self, ctx: &RetryContext) -> ControlFlow<(), Duration> {
        if ctx.fail_count.get() > 1 {
            return ControlFlow::Break(());
        }
        match &ctx.error {
            InvocationError::Rpc(RpcError {
                code: 420,
                name,
                value: Some(seconds),
                ..
            }) if name.ends_with("_WAIT") && u64::from(*seconds) <= SHORT_WAIT.as_secs() => {
                ControlFlow::Continue(Duration::from_secs(u64::from(*seconds)))
            }
            InvocationError::Io(_) => ControlFlow::Continue(IO_PAUSE),
            _ => ControlFlow::Break(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use grammers_tl_types as tl;

    use super::*;

    fn context(fail_count: u32, error: InvocationError) -> RetryContext {
        RetryContext {
            fail_count: NonZeroU32::new(fail_count).unwrap(),
            slept_so_far: Duration::ZERO,
            error,
        }
    }

    fn rpc(code: i32, message: &str) -> InvocationError {
        InvocationError::Rpc(RpcError::from(tl::types::RpcError {
            error_code: code,
            error_message: message.to_owned(),
        }))
    }

    #[test]
    fn a_short_flood_wait_is_waited_out_once_and_a_long_one_is_surfaced() {
        let policy = WaitOnceThenSurface;
        assert_eq!(
            policy.should_retry(&context(1, rpc(420, "FLOOD_WAIT_3"))),
            ControlFlow::Continue(Duration::from_secs(3))
        );
        assert_eq!(
            policy.should_retry(&context(2, rpc(420, "FLOOD_WAIT_3"))),
            ControlFlow::Break(())
        );
        assert_eq!(
            policy.should_retry(&context(1, rpc(420, "FLOOD_WAIT_6"))),
            ControlFlow::Break(())
        );
        assert_eq!(
            policy.should_retry(&context(1, rpc(420, "FROZEN_METHOD_INVALID"))),
            ControlFlow::Break(()),
            "a frozen account is not a wait"
        );
        assert_eq!(
            policy.should_retry(&context(1, rpc(400, "PEER_FLOOD"))),
            ControlFlow::Break(())
        );
    }

    #[test]
    fn a_failed_connection_is_repeated_once_after_a_pause() {
        let policy = WaitOnceThenSurface;
        let io = || InvocationError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(policy.should_retry(&context(1, io())), ControlFlow::Continue(IO_PAUSE));
        assert_eq!(policy.should_retry(&context(2, io())), ControlFlow::Break(()));
    }
}
