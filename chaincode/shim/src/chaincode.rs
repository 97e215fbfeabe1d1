//! The interface a chaincode implements.

use async_trait::async_trait;

use crate::response::Response;
use crate::stub::Stub;

/// A chaincode: code the peer calls once per transaction.
///
/// Most chaincode should be written as [`crate::Contract`]s and served through
/// a [`crate::Router`], which implements this trait; implement it directly only
/// to handle raw arguments yourself, as Fabric's low-level shims do.
///
/// Each call runs in its own task. A panic is caught and answered as an error
/// for that transaction only.
#[async_trait]
pub trait Chaincode: Send + Sync + 'static {
    /// Called for transactions the client marked as `init` (legacy
    /// `--init-required` chaincode); succeeds with no payload by default.
    async fn init(&self, stub: Stub) -> Response {
        let _ = stub;
        Response::success(Vec::new())
    }

    /// Called for every other transaction.
    async fn invoke(&self, stub: Stub) -> Response;
}
