//! The chaincode-as-a-service gRPC server the peer dials.
//!
//! [`serve`] takes a bound listener and a shutdown future, so tests bind port 0
//! and binaries decide how to stop. [`ServerConfig::from_lookup`] reads the
//! conventional `CHAINCODE_*` settings through a function the caller supplies:
//! the library itself never reads the environment.

use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use fabric_protos::protos::ChaincodeMessage;
use fabric_protos::protos::chaincode_server::{Chaincode as ChaincodeService, ChaincodeServer};
use futures::Stream;
use futures::StreamExt as _;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic::{Request, Status, Streaming};
use tracing::info;

use crate::chaincode::Chaincode;
use crate::error::{Error, Result};
use crate::handler::Handler;

/// Fabric's peer accepts messages up to 100 MiB; so do we, both ways.
pub const MAX_MESSAGE_SIZE: usize = 100 * 1024 * 1024;
/// Keepalive ping interval, as the official shims use.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
/// How long a keepalive ping may go unanswered.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Names of the settings [`ServerConfig::from_lookup`] reads.
pub mod env {
    /// `host:port` to listen on.
    pub const ADDRESS: &str = "CHAINCODE_SERVER_ADDRESS";
    /// The package id (`label:hash`) the peer installed.
    pub const ID: &str = "CHAINCODE_ID";
    /// PEM private key of the server's TLS certificate.
    pub const TLS_KEY_FILE: &str = "CHAINCODE_TLS_KEY_FILE";
    /// PEM TLS certificate.
    pub const TLS_CERT_FILE: &str = "CHAINCODE_TLS_CERT_FILE";
    /// PEM CA that must have issued the peer's client certificate.
    pub const TLS_CLIENT_CA_FILE: &str = "CHAINCODE_TLS_CLIENT_CA_FILE";
}

/// TLS material for the server.
#[derive(Clone)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert_pem: Vec<u8>,
    /// PEM private key.
    pub key_pem: Vec<u8>,
    /// When set, peers must present a client certificate issued by this CA.
    pub client_ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig").field("client_auth", &self.client_ca_pem.is_some()).finish_non_exhaustive()
    }
}

/// How to serve a chaincode.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Package id announced in REGISTER; the peer refuses any other.
    pub ccid: String,
    /// TLS; `None` serves plaintext.
    pub tls: Option<TlsConfig>,
}

impl ServerConfig {
    /// Plaintext server for package id `ccid`.
    pub fn new(ccid: impl Into<String>) -> Self {
        Self { ccid: ccid.into(), tls: None }
    }

    /// Reads the listen address and configuration from the `CHAINCODE_*`
    /// settings (see [`env`](mod@env)) through `lookup`, loading the TLS files they name.
    ///
    /// TLS is on when both key and certificate files are given; giving only one
    /// of them is an error, as is a client CA without them.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<(SocketAddr, Self)> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let address = get(env::ADDRESS)
            .ok_or_else(|| Error::Server(format!("{} is not set (e.g. 0.0.0.0:9999)", env::ADDRESS)))?;
        // A host name (as in fabric-samples' `ehr:9999`) is resolved once, at start.
        let address: SocketAddr = address
            .to_socket_addrs()
            .map_err(|e| Error::Server(format!("{}={address:?} is not host:port: {e}", env::ADDRESS)))?
            .next()
            .ok_or_else(|| Error::Server(format!("{}={address:?} resolves to no address", env::ADDRESS)))?;
        let ccid = get(env::ID).ok_or_else(|| {
            Error::Server(format!(
                "{} is not set: use the package id printed by `peer lifecycle chaincode install`",
                env::ID
            ))
        })?;
        let read = |var: &str, path: String| {
            std::fs::read(&path).map_err(|e| Error::Server(format!("cannot read {var}={path}: {e}")))
        };
        let tls = match (get(env::TLS_KEY_FILE), get(env::TLS_CERT_FILE), get(env::TLS_CLIENT_CA_FILE)) {
            (None, None, None) => None,
            (Some(key), Some(cert), ca) => Some(TlsConfig {
                key_pem: read(env::TLS_KEY_FILE, key)?,
                cert_pem: read(env::TLS_CERT_FILE, cert)?,
                client_ca_pem: ca.map(|p| read(env::TLS_CLIENT_CA_FILE, p)).transpose()?,
            }),
            _ => {
                return Err(Error::Server(format!(
                    "TLS needs both {} and {} ({} is optional and requires them)",
                    env::TLS_KEY_FILE,
                    env::TLS_CERT_FILE,
                    env::TLS_CLIENT_CA_FILE
                )));
            }
        };
        Ok((address, Self { ccid, tls }))
    }
}

struct Service {
    ccid: String,
    chaincode: Arc<dyn Chaincode>,
    shutdown: CancellationToken,
}

type MessageStream = Pin<Box<dyn Stream<Item = Result<ChaincodeMessage, Status>> + Send>>;

#[tonic::async_trait]
impl ChaincodeService for Service {
    type ConnectStream = MessageStream;

    async fn connect(
        &self,
        request: Request<Streaming<ChaincodeMessage>>,
    ) -> Result<tonic::Response<Self::ConnectStream>, Status> {
        info!(remote = ?request.remote_addr(), "peer connected");
        let (tx, rx) = mpsc::channel(1024);
        let handler = Handler::new(tx, self.chaincode.clone());
        let done = CancellationToken::new();
        let finished = done.clone();
        let ccid = self.ccid.clone();
        let shutdown = self.shutdown.child_token();
        let inbound = request.into_inner();
        tokio::spawn(async move {
            handler.run(ccid, inbound, shutdown).await;
            finished.cancel();
        });
        // The response stream ends when the handler does, even if a task still holds a sender.
        let stream = ReceiverStream::new(rx).take_until(done.cancelled_owned());
        Ok(tonic::Response::new(Box::pin(stream)))
    }
}

/// Serves `chaincode` on `listener` until `shutdown` completes, then lets
/// running transactions finish before returning.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    chaincode: Arc<dyn Chaincode>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let token = CancellationToken::new();
    let service = ChaincodeServer::new(Service { ccid: config.ccid.clone(), chaincode, shutdown: token.clone() })
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let mut builder = Server::builder()
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT));
    if let Some(tls) = &config.tls {
        let mut tls_config = ServerTlsConfig::new().identity(Identity::from_pem(&tls.cert_pem, &tls.key_pem));
        if let Some(ca) = &tls.client_ca_pem {
            tls_config = tls_config.client_ca_root(Certificate::from_pem(ca));
        }
        builder = builder.tls_config(tls_config)?;
    }
    let local = listener.local_addr()?;
    info!(
        address = %local,
        ccid = config.ccid,
        tls = config.tls.is_some(),
        client_auth = config.tls.as_ref().is_some_and(|t| t.client_ca_pem.is_some()),
        "chaincode server listening"
    );
    let signal = async move {
        shutdown.await;
        info!("shutdown requested");
        token.cancel();
    };
    // Small request/response messages must not wait for Nagle's algorithm:
    // without TCP_NODELAY, delayed ACKs add ~40 ms to a tail of transactions.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    builder.add_service(service).serve_with_incoming_shutdown(incoming, signal).await?;
    info!("chaincode server stopped");
    Ok(())
}
