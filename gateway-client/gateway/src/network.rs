//! A channel on the gateway: where contracts live and events come from.

use crate::contract::Contract;
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
}
