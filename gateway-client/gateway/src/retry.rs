//! Retrying transactions that lost a read conflict.
//!
//! Under concurrent updates of the same key Fabric commits the first
//! transaction and marks the others `MVCC_READ_CONFLICT`. Their endorsement
//! read stale data, so the cure is to endorse again, with a new transaction
//! id, against the new state: the closure rebuilds the call each time.

use std::future::Future;
use std::time::Duration;

use crate::error::Result;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Pause before the second attempt; doubled before each further one.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 5, backoff: Duration::from_millis(100) }
    }
}

/// Runs `attempt` until it succeeds, fails with something other than a read
/// conflict, or the attempts run out (then the last conflict is returned).
pub async fn retry_on_conflict<T, F, Fut>(policy: RetryPolicy, mut attempt: F) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut pause = policy.backoff;
    let mut n = 1;
    loop {
        match attempt(n).await {
            Err(e) if e.is_read_conflict() && n < policy.attempts.max(1) => {
                tracing::info!(attempt = n, error = %e, "read conflict; endorsing again with a new transaction id");
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
                n += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GatewayError;

    fn conflict() -> GatewayError {
        GatewayError::Commit { transaction_id: "t".into(), code: 11, block_number: 1 }
    }

    #[tokio::test]
    async fn retries_conflicts_then_succeeds() {
        let policy = RetryPolicy { attempts: 4, backoff: Duration::from_millis(1) };
        let out = retry_on_conflict(policy, |n| async move { if n < 3 { Err(conflict()) } else { Ok(n) } }).await;
        assert_eq!(out.unwrap(), 3);
    }

    #[tokio::test]
    async fn gives_up_after_the_last_attempt_and_never_retries_other_errors() {
        let policy = RetryPolicy { attempts: 2, backoff: Duration::from_millis(1) };
        let mut calls = 0;
        let out: Result<()> = retry_on_conflict(policy, |_| {
            calls += 1;
            async { Err(conflict()) }
        })
        .await;
        assert!(out.unwrap_err().is_read_conflict());
        assert_eq!(calls, 2);
        let mut calls = 0;
        let out: Result<()> = retry_on_conflict(policy, |_| {
            calls += 1;
            async { Err(GatewayError::Usage("no".into())) }
        })
        .await;
        assert!(out.is_err());
        assert_eq!(calls, 1);
    }
}
