//! A chaincode's contract: the everyday `evaluate` and `submit`, and the
//! builder for everything else (transient data, endorsers, time limits).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::Result;
use crate::network::Network;
use crate::proposal::{Proposal, ProposalOptions};
use crate::transaction::SubmittedTransaction;

/// One contract of one chaincode on one channel.
#[derive(Debug, Clone)]
pub struct Contract {
    network: Network,
    chaincode: String,
    contract: Option<String>,
}

impl Contract {
    pub(crate) fn new(network: Network, chaincode: String, contract: Option<String>) -> Self {
        Self { network, chaincode, contract }
    }

    /// The chaincode's name.
    pub fn chaincode(&self) -> &str {
        &self.chaincode
    }

    /// The network this contract lives on.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Runs a function on one peer without ordering it: for reads.
    pub async fn evaluate(&self, function: &str, args: &[&str]) -> Result<Vec<u8>> {
        self.call(function).args(args).build()?.evaluate().await
    }

    /// Endorses, orders and waits for the commit; returns the function's result.
    pub async fn submit(&self, function: &str, args: &[&str]) -> Result<Vec<u8>> {
        self.call(function).args(args).submit().await
    }

    /// Starts a call with options: arguments, transient data, endorsing
    /// organisations, time limits.
    pub fn call(&self, function: &str) -> CallBuilder {
        let name = match &self.contract {
            Some(contract) => format!("{contract}:{function}"),
            None => function.to_owned(),
        };
        CallBuilder { contract: self.clone(), function: name, options: ProposalOptions::default() }
    }
}

/// A call being described; finish with [`CallBuilder::evaluate`],
/// [`CallBuilder::submit`], [`CallBuilder::submit_async`] or, for offline
/// signing, [`CallBuilder::build`].
#[derive(Debug, Clone)]
pub struct CallBuilder {
    contract: Contract,
    function: String,
    options: ProposalOptions,
}

impl CallBuilder {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<[u8]>) -> Self {
        self.options.args.push(arg.as_ref().to_vec());
        self
    }

    /// Adds arguments.
    pub fn args<A: AsRef<[u8]>>(mut self, args: impl IntoIterator<Item = A>) -> Self {
        self.options.args.extend(args.into_iter().map(|a| a.as_ref().to_vec()));
        self
    }

    /// Private input that reaches the chaincode but is not written to the
    /// ledger (patient data goes here, never in arguments).
    pub fn transient(mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.options.transient.insert(key.into(), value.into());
        self
    }

    /// Replaces all transient data.
    pub fn transient_map(mut self, map: BTreeMap<String, Vec<u8>>) -> Self {
        self.options.transient = map;
        self
    }

    /// The organisations whose peers must endorse (or, for `evaluate`, the
    /// organisations allowed to answer). With transient data, name the
    /// members of the collections involved.
    pub fn endorsing_organizations<S: Into<String>>(mut self, msp_ids: impl IntoIterator<Item = S>) -> Self {
        self.options.organizations = msp_ids.into_iter().map(Into::into).collect();
        self
    }

    /// A time limit for each step of this call, instead of the gateway's defaults.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.options.timeout = Some(limit);
        self
    }

    /// Builds (and, with a signer, signs) the proposal without sending it.
    pub fn build(self) -> Result<Proposal> {
        Proposal::new(
            self.contract.network.gateway().clone(),
            self.contract.network.name(),
            &self.contract.chaincode,
            &self.function,
            self.options,
        )
    }

    /// Evaluates the call.
    pub async fn evaluate(self) -> Result<Vec<u8>> {
        self.build()?.evaluate().await
    }

    /// Submits the call and waits for it to commit.
    pub async fn submit(self) -> Result<Vec<u8>> {
        let submitted = self.submit_async().await?;
        submitted.commit().status().await?.ensure_committed()?;
        Ok(submitted.into_result())
    }

    /// Endorses and orders the call; returns its result at once with a
    /// commit handle to wait on later.
    pub async fn submit_async(self) -> Result<SubmittedTransaction> {
        self.build()?.endorse().await?.submit().await
    }
}
