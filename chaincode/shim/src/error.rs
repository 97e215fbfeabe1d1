//! The shim's one error type.

/// Everything that can go wrong inside the shim.
///
/// Chaincode code usually turns these into a transaction error response; the
/// variants exist so that a caller can tell a bad argument from a peer that
/// refused a request or a connection that went away.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The chaincode passed an argument the shim rejects before asking the peer
    /// (an empty key, a composite-key attribute with a reserved character, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The peer answered a request with an ERROR message.
    #[error("[{tx}] peer refused {request}: {message}")]
    Peer {
        /// Short transaction id (first 8 characters).
        tx: String,
        /// The request type, e.g. `GET_STATE`.
        request: &'static str,
        /// The peer's message.
        message: String,
    },
    /// A message could not be decoded or did not fit the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The stream to the peer closed while a request was outstanding.
    #[error("[{0}] connection to the peer closed")]
    Disconnected(String),
    /// The transaction already has a request outstanding; Fabric allows one at a time.
    #[error("[{0}] a request is already outstanding for this transaction")]
    ConcurrentRequest(String),
    /// The transaction's proposal or creator could not be parsed.
    #[error("invalid proposal: {0}")]
    Proposal(String),
    /// The caller's identity could not be read.
    #[error("invalid identity: {0}")]
    Identity(String),
    /// A server could not be configured or started.
    #[error("server: {0}")]
    Server(String),
    /// gRPC transport failure (binding, TLS).
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Local I/O (reading key files, binding a socket).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias for the shim.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The first 8 characters of a transaction id, as Fabric prints it in logs.
pub(crate) fn short_tx(tx_id: &str) -> String {
    tx_id.chars().take(8).collect()
}
