//! What a chaincode answers for one transaction.

/// HTTP-like status a chaincode returns: below 400 the peer endorses the
/// transaction, 400 and above it refuses it and shows the message to the client.
pub mod status {
    /// Success.
    pub const OK: i32 = 200;
    /// The caller's mistake (bad arguments, missing data).
    pub const BAD_REQUEST: i32 = 400;
    /// The caller may not do this.
    pub const FORBIDDEN: i32 = 403;
    /// Something that should exist does not.
    pub const NOT_FOUND: i32 = 404;
    /// The request conflicts with the current state.
    pub const CONFLICT: i32 = 409;
    /// The chaincode failed.
    pub const INTERNAL: i32 = 500;
    /// Fabric's threshold: statuses at or above it are errors.
    pub const ERROR_THRESHOLD: i32 = 400;
}

/// A chaincode's answer to one transaction (Fabric's `peer.Response`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// Status; see [`status`].
    pub status: i32,
    /// Error message shown to the client when `status >= 400`.
    pub message: String,
    /// Result bytes.
    pub payload: Vec<u8>,
}

impl Response {
    /// A 200 answer carrying `payload`.
    pub fn success(payload: impl Into<Vec<u8>>) -> Self {
        Self { status: status::OK, message: String::new(), payload: payload.into() }
    }

    /// An error answer; `status` should be 400 or more.
    pub fn error(status: i32, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), payload: Vec::new() }
    }

    /// Whether the peer will treat this as a failure.
    pub fn is_error(&self) -> bool {
        self.status >= status::ERROR_THRESHOLD
    }
}

impl From<Response> for fabric_protos::protos::Response {
    fn from(r: Response) -> Self {
        Self { status: r.status, message: r.message, payload: r.payload }
    }
}

impl From<fabric_protos::protos::Response> for Response {
    fn from(r: fabric_protos::protos::Response) -> Self {
        Self { status: r.status, message: r.message, payload: r.payload }
    }
}
