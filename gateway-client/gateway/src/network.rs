//! A channel on the gateway: where contracts live and events come from.

use prost::Message as _;

use crate::contract::Contract;
use crate::error::{GatewayError, Result};
use crate::gateway::Gateway;

/// One channel, reached through one gateway.
#[derive(Debug, Clone)]
pub struct Network {
    gateway: Gateway,
    channel: String,
}

impl Network {
    pub(crate) fn new(gateway: Gateway, channel: String) -> Self {
        Self { gateway, channel }
    }

    /// The default contract of `chaincode`.
    pub fn contract(&self, chaincode: impl Into<String>) -> Contract {
        Contract::new(self.clone(), chaincode.into(), None)
    }

    /// A named contract inside `chaincode` (functions are sent as `contract:function`).
    pub fn contract_named(&self, chaincode: impl Into<String>, contract: impl Into<String>) -> Contract {
        Contract::new(self.clone(), chaincode.into(), Some(contract.into()))
    }

    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.channel
    }

    /// The gateway this network is reached through.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// How many blocks the channel has on the gateway's peer, which is the
    /// number of the next block. Events read from `Start::Block(height)`
    /// miss nothing committed after this call, where `Start::NextCommit`
    /// would miss what commits before the stream opens. Asked of the peer's
    /// query system chaincode (`qscc` `GetChainInfo`), which channel readers may call.
    ///
    /// ```no_run
    /// # async fn demo(network: fabric_gateway_client::Network) -> fabric_gateway_client::Result<()> {
    /// let from = network.height().await?;
    /// let events = network.chaincode_events("ehr", fabric_gateway_client::Start::Block(from)).await?;
    /// # drop(events); Ok(()) }
    /// ```
    pub async fn height(&self) -> Result<u64> {
        let payload = self.contract("qscc").call("GetChainInfo").arg(&self.channel).evaluate().await?;
        let info = fabric_protos::common::BlockchainInfo::decode(payload.as_slice())
            .map_err(|e| GatewayError::decode("the channel's chain info (qscc GetChainInfo)", e))?;
        Ok(info.height)
    }
}
