//! Following a caller's notifications across reconnects, without losing or
//! repeating one: the stream resumes after the last notice the caller marked
//! handled, which a checkpointer keeps (in a file, for the `ehr` tool).

use std::time::Duration;

use ehr_api::events::Notification;
use fabric_gateway_client::{ChaincodeEvent, Checkpointer, EventStream, Start};
use futures::StreamExt as _;

use crate::{EhrClient, Result};

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
    /// The stream failed or ended; the next call waits `after`, then resumes
    /// from the checkpoint. Only when reconnecting is on.
    Reconnecting {
        /// Why the stream stopped.
        reason: String,
        /// How long the follower waits before resuming.
        after: Duration,
    },
}

/// A caller's notifications, resumed from a checkpoint whenever the stream
/// breaks (when `reconnect` is on) and checkpointed as the caller handles
/// them, so a notice is delivered at least once and, after a restart, not
/// again once handled.
pub struct NotificationFollower<'a, C: Checkpointer> {
    client: &'a EhrClient,
    checkpointer: C,
    initial: Start,
    reconnect: bool,
    pause: Duration,
    wait: Option<Duration>,
    stream: Option<EventStream<(ChaincodeEvent, Notification)>>,
}

impl<'a, C: Checkpointer> NotificationFollower<'a, C> {
    /// Follows `client`'s notifications from the checkpoint, or from
    /// `initial` when the checkpointer has none. Without `reconnect`, a
    /// failure ends the follow with its error and the end of the stream ends it.
    pub fn new(client: &'a EhrClient, checkpointer: C, initial: Start, reconnect: bool) -> Self {
        NotificationFollower { client, checkpointer, initial, reconnect, pause: FIRST_PAUSE, wait: None, stream: None }
    }

    /// The next notice, a reconnect under way, or `None` when the stream
    /// ended and reconnecting is off.
    pub async fn next(&mut self) -> Option<Result<Followed>> {
        if let Some(wait) = self.wait.take() {
            tokio::time::sleep(wait).await;
        }
        let stream = match self.stream.as_mut() {
            Some(s) => s,
            None => {
                let start = Start::resume(self.checkpointer.position(), self.initial.clone());
                match self.client.notifications(start).await {
                    Ok(s) => self.stream.insert(s),
                    Err(e) => return self.broken(e.to_string(), Some(e)),
                }
            }
        };
        match stream.next().await {
            Some(Ok((event, note))) => {
                self.pause = FIRST_PAUSE;
                Some(Ok(Followed::Notice(Box::new(event), note)))
            }
            Some(Err(e)) => self.broken(e.to_string(), Some(e.into())),
            None => self.broken("the peer closed the stream".into(), None),
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

    /// After a failure (`error`) or the end of the stream (`None`): reports
    /// a reconnect (the next call waits first), or ends the follow.
    fn broken(&mut self, reason: String, error: Option<crate::EhrClientError>) -> Option<Result<Followed>> {
        self.stream = None;
        if !self.reconnect {
            return error.map(Err);
        }
        let after = self.pause;
        self.wait = Some(after);
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
        Some(Ok(Followed::Reconnecting { reason, after }))
    }
}
