//! The connection to one gateway peer, shared by every network and contract.

use std::sync::Arc;
use std::time::Duration;

use fabric_protos::gateway::gateway_client::GatewayClient;
use fabric_protos::protos::deliver_client::DeliverClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::error::{GatewayError, Result};
use crate::network::Network;
use fabric_identity::{Identity, Signer};

/// Fabric allows 100 MiB messages; tonic's default of 4 MiB would refuse large results.
const MAX_MESSAGE_BYTES: usize = 100 * 1024 * 1024;

/// Default time limits per call, chosen like the official clients' samples:
/// reads are quick, endorsement runs chaincode on several peers, commit waits
/// for a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Limit for `evaluate`.
    pub evaluate: Duration,
    /// Limit for endorsement.
    pub endorse: Duration,
    /// Limit for handing the transaction to the orderers.
    pub submit: Duration,
    /// Limit for waiting for the commit status.
    pub commit_status: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            evaluate: Duration::from_secs(30),
            endorse: Duration::from_secs(30),
            submit: Duration::from_secs(30),
            commit_status: Duration::from_secs(60),
        }
    }
}

/// How to reach a gateway peer and who to be there.
#[derive(Debug)]
pub struct GatewayBuilder {
    endpoint: String,
    tls_root: Option<Vec<u8>>,
    server_name: Option<String>,
    client_tls: Option<(Vec<u8>, Vec<u8>)>,
    identity: Option<Identity>,
    signer: Option<Signer>,
    timeouts: Timeouts,
    connect_timeout: Duration,
}

impl GatewayBuilder {
    /// The root certificate (PEM) that signed the peer's TLS certificate.
    /// Without it the connection is plain text, which Fabric peers refuse
    /// unless TLS is off.
    pub fn tls_root(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_root = Some(pem.into());
        self
    }

    /// The name to check the peer's certificate against, when it differs
    /// from the endpoint's host (e.g. `peer0.hospitala.ehr`).
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// A client certificate and key (PEM) for peers that require mutual TLS.
    pub fn client_tls(mut self, cert_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> Self {
        self.client_tls = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// The client's identity (required).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The client's key. Leave it out to sign offline through the
    /// step-by-step API.
    pub fn signer(mut self, signer: Signer) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Default time limits for every call made through this gateway.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// How long to try to open the connection.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// Opens the connection now, so that an unreachable peer or a TLS
    /// mismatch is reported here rather than on the first call.
    pub async fn connect(self) -> Result<Gateway> {
        let identity = self
            .identity
            .ok_or_else(|| GatewayError::Usage("a gateway needs an identity: call .identity(..)".into()))?;
        if let Some(signer) = &self.signer {
            identity.check_signer(signer)?;
        }
        let fail = |message: String| GatewayError::Connect { endpoint: self.endpoint.clone(), message };
        let scheme = if self.tls_root.is_some() { "https" } else { "http" };
        let url =
            if self.endpoint.contains("://") { self.endpoint.clone() } else { format!("{scheme}://{}", self.endpoint) };
        let mut endpoint = Endpoint::from_shared(url)
            .map_err(|e| fail(format!("not a valid endpoint ({e}); write host:port, e.g. 127.0.0.1:7051")))?
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(60))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true);
        if let Some(root) = &self.tls_root {
            let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(root));
            if let Some(name) = &self.server_name {
                tls = tls.domain_name(name.clone());
            }
            if let Some((cert, key)) = &self.client_tls {
                tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| fail(format!("bad TLS settings: {e}")))?;
        }
        let channel = endpoint.connect().await.map_err(|e| fail(describe_transport(&e)))?;
        Ok(Gateway {
            inner: Arc::new(Inner {
                endpoint: self.endpoint,
                channel,
                identity,
                signer: self.signer,
                timeouts: self.timeouts,
            }),
        })
    }
}

/// Walks a transport error's sources: tonic's own message is only
/// "transport error", the reason (refused, TLS) is underneath.
fn describe_transport(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// A connection to a gateway peer with the identity that signs through it.
/// Cheap to clone; clones share the connection.
#[derive(Debug, Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    endpoint: String,
    channel: Channel,
    identity: Identity,
    signer: Option<Signer>,
    timeouts: Timeouts,
}

impl Gateway {
    /// Starts describing a connection to `endpoint` (`host:port` or a URL).
    pub fn builder(endpoint: impl Into<String>) -> GatewayBuilder {
        GatewayBuilder {
            endpoint: endpoint.into(),
            tls_root: None,
            server_name: None,
            client_tls: None,
            identity: None,
            signer: None,
            timeouts: Timeouts::default(),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// A channel on this gateway.
    pub fn network(&self, channel: impl Into<String>) -> Network {
        Network::new(self.clone(), channel.into())
    }

    /// The client's identity.
    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    /// The endpoint this gateway dialled.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The default time limits.
    pub fn timeouts(&self) -> Timeouts {
        self.inner.timeouts
    }

    pub(crate) fn client(&self) -> GatewayClient<Channel> {
        GatewayClient::new(self.inner.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    pub(crate) fn deliver(&self) -> DeliverClient<Channel> {
        DeliverClient::new(self.inner.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// Signs `digest` with the gateway's signer, or says that this gateway
    /// signs offline.
    pub(crate) fn sign_digest(&self, what: &'static str, digest: &[u8]) -> Result<Vec<u8>> {
        match &self.inner.signer {
            Some(signer) => Ok(signer.sign_digest(digest)?),
            None => Err(GatewayError::NoSigner(what)),
        }
    }

    pub(crate) fn has_signer(&self) -> bool {
        self.inner.signer.is_some()
    }
}
