//! Contracts: named transaction functions with typed JSON arguments and results.
//!
//! A [`Contract`] maps function names to async functions
//! `fn(Stub, (A, B, ..)) -> Result<R, ContractError>`. A [`Router`] holds
//! contracts and implements [`Chaincode`]: it reads the function name from the
//! first argument (`name` for the default contract, `contract:name` for any),
//! decodes each further argument into the function's parameter types, runs the
//! before hook, the function and the after hook, and answers with the JSON of
//! the result. It also answers `org.hyperledger.fabric:GetMetadata` with the
//! contract metadata JSON that Fabric's tools read.
//!
//! Arguments are JSON; a parameter of string type also accepts the raw text,
//! as the official contract APIs do, so `peer chaincode query -c
//! '{"Args":["Get","P-1"]}'` works without quoting.
//!
//! ```
//! use fabric_chaincode_shim::{Contract, ContractError, Router, Stub};
//!
//! async fn get(stub: Stub, (key,): (String,)) -> Result<Option<String>, ContractError> {
//!     let value = stub.get_state(&key).await?;
//!     Ok(value.map(|v| String::from_utf8_lossy(&v).into_owned()))
//! }
//!
//! let router = Router::builder("demo", "1.0")
//!     .contract(Contract::new("Demo").evaluate("Get", &["key"], get))
//!     .build()
//!     .unwrap();
//! # let _ = router;
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::{debug, warn};

use crate::chaincode::Chaincode;
use crate::error::{Error, short_tx};
use crate::response::{Response, status};
use crate::stub::Stub;

/// Name of Fabric's system contract, which holds `GetMetadata`.
pub const SYSTEM_CONTRACT: &str = "org.hyperledger.fabric";
/// The metadata function Fabric's tools call.
pub const GET_METADATA: &str = "GetMetadata";

/// A transaction failure with the status the client sees.
///
/// Use 4xx for the caller's mistakes (the message is shown to them) and 500
/// for internal failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ContractError {
    /// Status returned to the peer (>= 400).
    pub status: i32,
    /// Message returned to the client.
    pub message: String,
}

impl ContractError {
    /// An error with an explicit status.
    pub fn new(status: i32, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(status::BAD_REQUEST, message)
    }
    /// 403: the caller may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(status::FORBIDDEN, message)
    }
    /// 404: what the request names does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(status::NOT_FOUND, message)
    }
    /// 409: the request conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(status::CONFLICT, message)
    }
    /// 500: the chaincode failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(status::INTERNAL, message)
    }
}

impl From<Error> for ContractError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidArgument(_) => Self::bad_request(e.to_string()),
            _ => Self::internal(e.to_string()),
        }
    }
}

/// A parameter type: decoded from one argument, described by a JSON schema.
pub trait Param: Sized {
    /// Decodes the argument at `position` (1-based after the function name) named `name`.
    fn from_arg(name: &str, bytes: &[u8]) -> Result<Self, ContractError>;
    /// The parameter's schema.
    fn schema(generator: &mut SchemaGenerator) -> Schema;
    /// The value of a parameter that was not sent at all (a transient entry
    /// left out): `None` for an `Option`, a 400 naming it for anything else.
    fn missing(name: &str) -> Result<Self, ContractError>;
}

impl<T: DeserializeOwned + JsonSchema> Param for T {
    fn from_arg(name: &str, bytes: &[u8]) -> Result<Self, ContractError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ContractError::bad_request(format!("argument {name:?} is not valid UTF-8")))?;
        match serde_json::from_str::<T>(text) {
            Ok(v) => Ok(v),
            Err(json_err) => {
                // A string parameter may be passed as raw text; when the text is
                // not JSON at all, why it is no valid string value says more.
                serde_json::from_value::<T>(Value::String(text.to_owned())).map_err(|text_err| {
                    let why = if json_err.is_syntax() || json_err.is_eof() { text_err } else { json_err };
                    ContractError::bad_request(format!("argument {name:?} is invalid: {why}"))
                })
            }
        }
    }

    fn schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }

    fn missing(name: &str) -> Result<Self, ContractError> {
        serde_json::from_value::<T>(Value::Null)
            .map_err(|_| ContractError::bad_request(format!("transient {name:?} is required")))
    }
}

/// A function's whole parameter list: `()` or a tuple of [`Param`]s.
pub trait Params: Sized + Send + 'static {
    /// How many arguments the function takes after its name.
    const COUNT: usize;
    /// Decodes the arguments; `names` has [`Params::COUNT`] entries.
    fn from_args(names: &[String], args: &[Vec<u8>]) -> Result<Self, ContractError>;
    /// Decodes the parameters from the transient map, each under its name.
    fn from_transient(names: &[String], transient: &BTreeMap<String, Vec<u8>>) -> Result<Self, ContractError>;
    /// One schema per parameter.
    fn schemas(generator: &mut SchemaGenerator) -> Vec<Schema>;
}

macro_rules! impl_params {
    ($count:expr; $($t:ident $i:tt),*) => {
        impl<$($t: Param + Send + 'static),*> Params for ($($t,)*) {
            const COUNT: usize = $count;
            #[allow(unused_variables)]
            fn from_args(names: &[String], args: &[Vec<u8>]) -> Result<Self, ContractError> {
                if args.len() != $count {
                    return Err(ContractError::bad_request(format!(
                        "expected {} argument(s) ({}), got {}",
                        $count,
                        names.join(", "),
                        args.len()
                    )));
                }
                Ok(($($t::from_arg(&names[$i], &args[$i])?,)*))
            }
            #[allow(unused_variables)]
            fn from_transient(names: &[String], transient: &BTreeMap<String, Vec<u8>>) -> Result<Self, ContractError> {
                Ok(($(match transient.get(&names[$i]) {
                    Some(bytes) => $t::from_arg(&names[$i], bytes)?,
                    None => $t::missing(&names[$i])?,
                },)*))
            }
            #[allow(unused_variables)]
            fn schemas(generator: &mut SchemaGenerator) -> Vec<Schema> {
                vec![$($t::schema(generator)),*]
            }
        }
    };
}

impl_params!(0;);
impl_params!(1; A 0);
impl_params!(2; A 0, B 1);
impl_params!(3; A 0, B 1, C 2);
impl_params!(4; A 0, B 1, C 2, D 3);
impl_params!(5; A 0, B 1, C 2, D 3, E 4);

/// A function's result: encoded as JSON, described by a JSON schema.
pub trait Returns: Send + 'static {
    /// The payload bytes.
    fn into_payload(self) -> Result<Vec<u8>, ContractError>;
    /// The schema, or `None` for no result.
    fn schema(generator: &mut SchemaGenerator) -> Option<Schema>;
}

impl<T: Serialize + JsonSchema + Send + 'static> Returns for T {
    fn into_payload(self) -> Result<Vec<u8>, ContractError> {
        serde_json::to_vec(&self).map_err(|e| ContractError::internal(format!("cannot encode the result: {e}")))
    }
    fn schema(generator: &mut SchemaGenerator) -> Option<Schema> {
        if T::schema_name() == "null" { None } else { Some(generator.subschema_for::<T>()) }
    }
}

type Call = Arc<dyn Fn(Stub, Vec<Vec<u8>>) -> BoxFuture<'static, Result<Vec<u8>, ContractError>> + Send + Sync>;
type BeforeHook = Arc<dyn Fn(Stub, String) -> BoxFuture<'static, Result<(), ContractError>> + Send + Sync>;
type AfterHook = Arc<dyn Fn(Stub, String, Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, ContractError>> + Send + Sync>;
type UnknownHook = Arc<dyn Fn(Stub, String) -> BoxFuture<'static, Result<Vec<u8>, ContractError>> + Send + Sync>;

/// Describes one function for the metadata.
struct Signature {
    params: Vec<(String, Schema)>,
    returns: Option<Schema>,
}

struct Transaction {
    read_only: bool,
    args_in_transient: bool,
    param_names: Vec<String>,
    describe: fn(&[String], &mut SchemaGenerator) -> Signature,
    call: Call,
}

/// A named group of transaction functions.
pub struct Contract {
    name: String,
    description: Option<String>,
    transactions: BTreeMap<String, Transaction>,
    before: Option<BeforeHook>,
    after: Option<AfterHook>,
    unknown: Option<UnknownHook>,
    problems: Vec<String>,
}

impl Contract {
    /// An empty contract called `name` (no `:` allowed: it separates contract and function).
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let mut problems = Vec::new();
        if name.is_empty() || name.contains(':') {
            problems.push(format!("contract name {name:?} must be non-empty and contain no ':'"));
        }
        Self {
            name,
            description: None,
            transactions: BTreeMap::new(),
            before: None,
            after: None,
            unknown: None,
            problems,
        }
    }

    /// A description for the metadata.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Adds a function that may change state (clients submit it). The function
    /// may fail with any error that converts into [`ContractError`], so a
    /// contract keeps its own error type.
    pub fn submit<P, R, E, F, Fut>(self, name: &str, param_names: &[&str], f: F) -> Self
    where
        P: Params,
        R: Returns,
        E: Into<ContractError> + Send + 'static,
        F: Fn(Stub, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
    {
        self.add(name, param_names, false, false, f)
    }

    /// Adds a function that may change state and takes its parameters from the
    /// transient map, each under its parameter name, never from the proposal's
    /// arguments: what it is called with stays out of every block (transient
    /// data is not recorded). A parameter left out of the map is `None` if it
    /// is an `Option`, and refused otherwise; a proposal that carries
    /// positional arguments is refused, so that a client cannot leak them by mistake.
    pub fn submit_transient<P, R, E, F, Fut>(self, name: &str, param_names: &[&str], f: F) -> Self
    where
        P: Params,
        R: Returns,
        E: Into<ContractError> + Send + 'static,
        F: Fn(Stub, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
    {
        self.add(name, param_names, false, true, f)
    }

    /// Adds a read-only function (clients evaluate it); its writes are refused.
    pub fn evaluate<P, R, E, F, Fut>(self, name: &str, param_names: &[&str], f: F) -> Self
    where
        P: Params,
        R: Returns,
        E: Into<ContractError> + Send + 'static,
        F: Fn(Stub, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
    {
        self.add(name, param_names, true, false, f)
    }

    /// Runs before every function of this contract; an error stops the transaction.
    pub fn before<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Stub, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ContractError>> + Send + 'static,
    {
        self.before = Some(Arc::new(move |stub, name| Box::pin(hook(stub, name))));
        self
    }

    /// Runs after every successful function with its encoded result, and may replace it.
    pub fn after<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Stub, String, Vec<u8>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<u8>, ContractError>> + Send + 'static,
    {
        self.after = Some(Arc::new(move |stub, name, payload| Box::pin(hook(stub, name, payload))));
        self
    }

    /// Answers calls to functions this contract does not have (default: 400).
    pub fn unknown<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Stub, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<u8>, ContractError>> + Send + 'static,
    {
        self.unknown = Some(Arc::new(move |stub, name| Box::pin(hook(stub, name))));
        self
    }

    fn add<P, R, E, F, Fut>(
        mut self,
        name: &str,
        param_names: &[&str],
        read_only: bool,
        args_in_transient: bool,
        f: F,
    ) -> Self
    where
        P: Params,
        R: Returns,
        E: Into<ContractError> + Send + 'static,
        F: Fn(Stub, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
    {
        if param_names.len() != P::COUNT {
            self.problems.push(format!(
                "{}:{name} names {} parameter(s) but takes {}",
                self.name,
                param_names.len(),
                P::COUNT
            ));
        }
        if name.is_empty() || name.contains(':') {
            self.problems.push(format!("function name {name:?} must be non-empty and contain no ':'"));
        }
        if self.transactions.contains_key(name) {
            self.problems.push(format!("{}:{name} is defined twice", self.name));
        }
        let names: Vec<String> = param_names.iter().map(|s| (*s).to_owned()).collect();
        let f = Arc::new(f);
        let call_names = names.clone();
        let call: Call = Arc::new(move |stub, args| {
            let f = f.clone();
            let names = call_names.clone();
            Box::pin(async move {
                let params = if args_in_transient {
                    if !args.is_empty() {
                        return Err(ContractError::bad_request(format!(
                            "this function takes no arguments: send {} as transient data, so that they never reach a block",
                            names.join(", ")
                        )));
                    }
                    P::from_transient(&names, stub.transient())?
                } else {
                    P::from_args(&names, &args)?
                };
                f(stub, params).await.map_err(Into::into)?.into_payload()
            })
        });
        let describe: fn(&[String], &mut SchemaGenerator) -> Signature = |names, generator| Signature {
            params: names.iter().cloned().zip(P::schemas(generator)).collect(),
            returns: R::schema(generator),
        };
        self.transactions
            .insert(name.to_owned(), Transaction { read_only, args_in_transient, param_names: names, describe, call });
        self
    }
}

/// Builds a [`Router`].
pub struct RouterBuilder {
    title: String,
    version: String,
    contracts: Vec<Contract>,
    default: Option<String>,
}

impl RouterBuilder {
    /// Adds a contract; the first one added is the default unless [`RouterBuilder::default_contract`] says otherwise.
    pub fn contract(mut self, contract: Contract) -> Self {
        self.contracts.push(contract);
        self
    }

    /// The contract that plain function names (without `contract:`) address.
    pub fn default_contract(mut self, name: impl Into<String>) -> Self {
        self.default = Some(name.into());
        self
    }

    /// Checks the definitions and builds the router; fails listing every problem found.
    pub fn build(self) -> Result<Router, Error> {
        let mut problems: Vec<String> = self.contracts.iter().flat_map(|c| c.problems.clone()).collect();
        let mut contracts = BTreeMap::new();
        let mut first = None;
        for c in self.contracts {
            if c.name == SYSTEM_CONTRACT {
                problems.push(format!("{SYSTEM_CONTRACT} is reserved"));
            }
            first.get_or_insert_with(|| c.name.clone());
            if contracts.contains_key(&c.name) {
                problems.push(format!("contract {} is added twice", c.name));
            }
            contracts.insert(c.name.clone(), c);
        }
        let default = self.default.or(first);
        if let Some(d) = default.as_ref().filter(|d| !contracts.contains_key(*d)) {
            problems.push(format!("default contract {d} does not exist"));
        }
        if !problems.is_empty() {
            return Err(Error::InvalidArgument(problems.join("; ")));
        }
        let mut router = Router { title: self.title, version: self.version, contracts, default, metadata: Vec::new() };
        router.metadata = serde_json::to_vec(&router.metadata_json())
            .map_err(|e| Error::InvalidArgument(format!("cannot encode metadata: {e}")))?;
        Ok(router)
    }
}

/// Serves contracts as a [`Chaincode`].
pub struct Router {
    title: String,
    version: String,
    contracts: BTreeMap<String, Contract>,
    default: Option<String>,
    metadata: Vec<u8>,
}

impl Router {
    /// Starts a router; `title` and `version` describe the chaincode in its metadata.
    pub fn builder(title: impl Into<String>, version: impl Into<String>) -> RouterBuilder {
        RouterBuilder { title: title.into(), version: version.into(), contracts: Vec::new(), default: None }
    }

    /// The metadata JSON `GetMetadata` returns.
    pub fn metadata(&self) -> &[u8] {
        &self.metadata
    }

    fn metadata_json(&self) -> Value {
        let mut settings = SchemaSettings::draft07();
        settings.definitions_path = "/components/schemas".into();
        let mut generator = SchemaGenerator::new(settings);
        let mut contracts = serde_json::Map::new();
        for (name, contract) in &self.contracts {
            let transactions: Vec<Value> = contract
                .transactions
                .iter()
                .map(|(fname, tx)| {
                    let sig = (tx.describe)(&tx.param_names, &mut generator);
                    let tag = match (tx.read_only, tx.args_in_transient) {
                        (true, _) => json!(["EVALUATE", "evaluate"]),
                        (false, false) => json!(["SUBMIT", "submit"]),
                        (false, true) => json!(["SUBMIT", "submit", "TRANSIENT"]),
                    };
                    let mut t = json!({
                        "name": fname,
                        "tag": tag,
                        "parameters": sig.params.into_iter().map(|(n, s)| json!({"name": n, "schema": s})).collect::<Vec<_>>(),
                    });
                    if let Some(r) = sig.returns {
                        t["returns"] = r.to_value();
                    }
                    t
                })
                .collect();
            let mut c = json!({
                "name": name,
                "info": {"title": name, "version": self.version},
                "transactions": transactions,
            });
            if let Some(d) = &contract.description {
                c["info"]["description"] = json!(d);
            }
            if self.default.as_deref() == Some(name.as_str()) {
                c["default"] = json!(true);
            }
            contracts.insert(name.clone(), c);
        }
        contracts.insert(
            SYSTEM_CONTRACT.into(),
            json!({
                "name": SYSTEM_CONTRACT,
                "info": {"title": "Fabric system contract", "version": self.version},
                "transactions": [{"name": GET_METADATA, "tag": ["EVALUATE", "evaluate"], "parameters": [],
                                  "returns": {"type": "object"}}],
            }),
        );
        let schemas: serde_json::Map<String, Value> = generator.take_definitions(true).into_iter().collect();
        json!({
            "$schema": "https://hyperledger.github.io/fabric-chaincode-node/main/api/contract-schema.json",
            "info": {"title": self.title, "version": self.version},
            "contracts": contracts,
            "components": {"schemas": schemas},
        })
    }

    async fn dispatch(&self, stub: Stub) -> Result<Vec<u8>, ContractError> {
        let Some((qualified, rest)) = stub.args().split_first().map(|(f, r)| (f.clone(), r.to_vec())) else {
            return Err(ContractError::bad_request("no function name given: the first argument names the function"));
        };
        let qualified = std::str::from_utf8(&qualified)
            .map_err(|_| ContractError::bad_request("function name is not valid UTF-8"))?
            .to_owned();
        let (contract_name, function) = match qualified.rsplit_once(':') {
            Some((c, f)) => (c.to_owned(), f.to_owned()),
            None => (self.default.clone().unwrap_or_default(), qualified.clone()),
        };
        if contract_name == SYSTEM_CONTRACT {
            if function == GET_METADATA {
                return Ok(self.metadata.clone());
            }
            return Err(ContractError::bad_request(format!("unknown system function {function:?}")));
        }
        let Some(contract) = self.contracts.get(&contract_name) else {
            return Err(ContractError::bad_request(format!("unknown contract {contract_name:?} in {qualified:?}")));
        };
        let Some(tx) = contract.transactions.get(&function) else {
            if let Some(hook) = &contract.unknown {
                return hook(stub, function).await;
            }
            return Err(ContractError::bad_request(format!(
                "unknown function {function:?} in contract {contract_name}"
            )));
        };
        let stub = if tx.read_only { stub.read_only() } else { stub };
        if let Some(hook) = &contract.before {
            hook(stub.clone(), function.clone()).await?;
        }
        let payload = (tx.call)(stub.clone(), rest).await?;
        match &contract.after {
            Some(hook) => hook(stub, function, payload).await,
            None => Ok(payload),
        }
    }
}

#[async_trait]
impl Chaincode for Router {
    async fn invoke(&self, stub: Stub) -> Response {
        let tx = short_tx(stub.tx_id());
        match self.dispatch(stub).await {
            Ok(payload) => Response::success(payload),
            Err(e) => {
                if e.status >= status::INTERNAL {
                    warn!(tx, status = e.status, "transaction failed: {}", e.message);
                } else {
                    debug!(tx, status = e.status, "transaction refused: {}", e.message);
                }
                Response::error(e.status, e.message)
            }
        }
    }
}
