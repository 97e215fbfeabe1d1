//! Following a caller's notifications across reconnects and restarts: each
//! notice is delivered at least once, and once the caller marks it handled it
//! does not come again. The stream resumes after the last handled notice,
//! which a checkpointer keeps (in a file, for the `ehr` tool).

use std::time::Duration;

use ehr_api::events::Notification;
use fabric_gateway_client::{ChaincodeEvent, Checkpointer, EventStream, GatewayError, Start};
use futures::StreamExt as _;
use tokio::time::Instant;

use crate::{EhrClient, EhrClientError, Result};

/// The first wait before reconnecting; it doubles on each failure in a row.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// The longest wait between reconnects.
const LONGEST_PAUSE: Duration = Duration::from_secs(10);

/// What [`NotificationFollower::next`] hands back.
#[derive(Debug)]
pub enum Followed {
    /// A notice the caller may read; pass its event to
    /// [`NotificationFollower::handled`] once it is dealt with.
    Notice(Box<ChaincodeEvent>, Notification),
    /// The stream broke; the next call waits `after`, then resumes from the
    /// checkpoint. Only when reconnecting is on.
    Reconnecting {
        /// Why the stream stopped.
        reason: String,
        /// How long the follower waits before resuming.
        after: Duration,
    },
}

/// A caller's notifications, resumed from a checkpoint whenever the stream
/// breaks (when `reconnect` is on) and checkpointed as the caller handles
/// them.
///
/// "From the next commit" is pinned to a block number when the stream first
/// opens, so that a reconnect before anything was handled does not skip what
/// committed in between. Refusals (the caller may not receive notifications)
/// and events that cannot be decoded end the follow: retrying cannot help.
pub struct NotificationFollower<'a, C: Checkpointer> {
    client: &'a EhrClient,
    checkpointer: C,
    initial: Start,
    reconnect: bool,
    pause: Duration,
    resume_at: Option<Instant>,
    stream: Option<EventStream<(ChaincodeEvent, Notification)>>,
}

impl<'a, C: Checkpointer> NotificationFollower<'a, C> {
    /// Follows `client`'s notifications from the checkpoint, or from
    /// `initial` when the checkpointer has none. Without `reconnect`, a
    /// failure ends the follow with its error and the end of the stream ends it.
    pub fn new(client: &'a EhrClient, checkpointer: C, initial: Start, reconnect: bool) -> Self {
        NotificationFollower {
            client,
            checkpointer,
            initial,
            reconnect,
            pause: FIRST_PAUSE,
            resume_at: None,
            stream: None,
        }
    }

    /// Opens the stream now, if it is not open, and reports a failure as an
    /// error whether or not reconnecting is on: for callers that must know
    /// they are connected before they start waiting for notices.
    pub async fn open(&mut self) -> Result<()> {
        if self.stream.is_none() {
            if self.checkpointer.position().is_none() && matches!(self.initial, Start::NextCommit) {
                self.initial = Start::Block(self.client.contract().network().height().await?);
            }
            let start = Start::resume(self.checkpointer.position(), self.initial.clone());
            self.stream = Some(self.client.notifications(start).await?);
        }
        Ok(())
    }

    /// The next notice, a reconnect under way, or `None` when the stream
    /// ended and reconnecting is off. Cancel-safe: a call dropped while it
    /// waits to reconnect leaves the wait for the next call.
    pub async fn next(&mut self) -> Option<Result<Followed>> {
        if let Some(at) = self.resume_at {
            tokio::time::sleep_until(at).await;
            self.resume_at = None;
        }
        if self.stream.is_none() {
            if let Err(e) = self.open().await {
                return self.broken(Some(e));
            }
            // A stream that opens ends a run of failures.
            self.pause = FIRST_PAUSE;
        }
        let stream = self.stream.as_mut()?;
        match stream.next().await {
            Some(Ok((event, note))) => Some(Ok(Followed::Notice(Box::new(event), note))),
            Some(Err(e)) => self.broken(Some(e.into())),
            None => self.broken(None),
        }
    }

    /// Records that the notice of `event` is handled: a resumed or restarted
    /// follow starts after it.
    pub fn handled(&mut self, event: &ChaincodeEvent) -> Result<()> {
        Ok(self.checkpointer.checkpoint_event(event)?)
    }

    /// The checkpointer, e.g. to say where a file checkpointer keeps its position.
    pub fn checkpointer(&self) -> &C {
        &self.checkpointer
    }

    /// After a failure (`error`) or the end of the stream (`None`): reports a
    /// reconnect (the next call waits first), or ends the follow.
    fn broken(&mut self, error: Option<EhrClientError>) -> Option<Result<Followed>> {
        self.stream = None;
        let reason = error.as_ref().map_or_else(|| "the peer closed the stream".to_owned(), ToString::to_string);
        let hopeless = error.as_ref().is_some_and(|e| {
            e.refusal().is_some() || matches!(e, EhrClientError::Gateway(GatewayError::Decode { .. }))
        });
        if !self.reconnect || hopeless {
            return error.map(Err);
        }
        let after = self.pause;
        self.resume_at = Some(Instant::now() + after);
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
        Some(Ok(Followed::Reconnecting { reason, after }))
    }
}
