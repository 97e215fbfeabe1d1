//! Wire compatibility against Fabric's official protobuf bindings.
//!
//! Every `fixtures/<name>.bin` was serialized by the `hyperledger-fabric-protos`
//! Python package (see `fixtures/generate.py` for the exact version). Each test
//! decodes a fixture with this crate's prost types, checks concrete field
//! values, re-encodes and compares bytes with the fixture. A wrong field
//! number, wire type or scalar type (e.g. `int32` vs `sint32`, `uint64` vs
//! `fixed64`) shows up either as a wrong decoded value or as a byte mismatch:
//! prost silently drops unknown fields, so anything we fail to model is lost
//! on re-encode.
//!
//! Fixtures that contain a protobuf `map` are compared by decoding instead
//! (see [`roundtrip_unordered`]), for two legitimate encoder differences:
//! the Python side serializes maps sorted by key (`deterministic=True`) while
//! prost's `HashMap` iterates in arbitrary order, and Python always writes
//! both key and value of a map entry while prost omits a default (empty)
//! value. Both forms decode to the same message on either side.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use fabric_protos::prost::Message;
use fabric_protos::prost_types::Timestamp;
use fabric_protos::{common, gateway, kvrwset, msp, orderer, protos, queryresult, rwset};

const CHANNEL: &str = "mychannel";
const TX_ID: &str = "6f1c2a9e0d4b4e53a3c1f0b2d9e8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0";
const CERT: &[u8] = b"-----BEGIN CERTIFICATE-----\nMIIBfixture\n-----END CERTIFICATE-----\n";

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/", $name, ".bin")).as_slice()
    };
}

/// Decodes `bytes`, re-encodes and asserts the result is byte-identical.
fn roundtrip<M: Message + Default>(name: &str, bytes: &[u8]) -> M {
    let msg = M::decode(bytes).unwrap_or_else(|e| panic!("{name}: decode failed: {e}"));
    let reencoded = msg.encode_to_vec();
    assert_eq!(reencoded, bytes, "{name}: re-encoded bytes differ from the Fabric encoder's output");
    msg
}

/// Like [`roundtrip`] for messages holding a `map` field: map entry order
/// (and whether an empty map value is written) differs between encoders, so
/// compare decoded values instead of raw bytes.
fn roundtrip_unordered<M: Message + Default + PartialEq + std::fmt::Debug>(name: &str, bytes: &[u8]) -> M {
    let msg = M::decode(bytes).unwrap_or_else(|e| panic!("{name}: decode failed: {e}"));
    let reencoded = msg.encode_to_vec();
    let again = M::decode(reencoded.as_slice()).expect("re-decode");
    assert_eq!(again, msg, "{name}: re-encoded message decodes differently");
    msg
}

fn ts(seconds: i64, nanos: i32) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos })
}

fn seq(start: u8, len: u8) -> Vec<u8> {
    (start..start + len).collect()
}

// --- identities, headers, proposals ------------------------------------------

#[test]
fn serialized_identity() {
    let id: msp::SerializedIdentity = roundtrip("serialized_identity", fixture!("serialized_identity"));
    assert_eq!(id.mspid, "Org1MSP");
    assert_eq!(id.id_bytes, CERT);
}

#[test]
fn channel_header() {
    let ch: common::ChannelHeader = roundtrip("channel_header", fixture!("channel_header"));
    assert_eq!(ch.r#type, common::HeaderType::EndorserTransaction as i32);
    assert_eq!(ch.version, 0);
    assert_eq!(ch.timestamp, ts(1_700_000_000, 123_456_789));
    assert_eq!(ch.channel_id, CHANNEL);
    assert_eq!(ch.tx_id, TX_ID);
    assert_eq!(ch.epoch, 7);
    assert_eq!(ch.tls_cert_hash, seq(0, 32));
    let ext: protos::ChaincodeHeaderExtension = roundtrip("channel_header.extension", &ch.extension);
    assert_eq!(ext.chaincode_id.expect("chaincode_id").name, "ehr");
}

#[test]
fn signature_header_and_header() {
    let sh: common::SignatureHeader = roundtrip("signature_header", fixture!("signature_header"));
    assert_eq!(sh.nonce, seq(0, 24));
    let creator: msp::SerializedIdentity = roundtrip("creator", &sh.creator);
    assert_eq!(creator.mspid, "Org1MSP");

    let header: common::Header = roundtrip("header", fixture!("header"));
    assert_eq!(header.channel_header, fixture!("channel_header"));
    assert_eq!(header.signature_header, fixture!("signature_header"));
}

#[test]
fn chaincode_invocation_spec() {
    let cis: protos::ChaincodeInvocationSpec =
        roundtrip("chaincode_invocation_spec", fixture!("chaincode_invocation_spec"));
    let spec = cis.chaincode_spec.expect("chaincode_spec");
    assert_eq!(spec.r#type(), protos::chaincode_spec::Type::Node);
    let id = spec.chaincode_id.expect("chaincode_id");
    assert_eq!((id.path.as_str(), id.name.as_str(), id.version.as_str()), ("github.com/example/ehr", "ehr", "1.0"));
    let input = spec.input.expect("input");
    assert_eq!(input.args, vec![b"CreateRecord".to_vec(), b"patient-42".to_vec(), br#"{"bp":"120/80"}"#.to_vec()]);
    assert!(input.is_init);
    assert!(input.decorations.is_empty());
    assert_eq!(spec.timeout, 30_000);
}

#[test]
fn chaincode_input_with_decorations() {
    let input: protos::ChaincodeInput = roundtrip_unordered("chaincode_input", fixture!("chaincode_input"));
    assert_eq!(input.args, vec![b"GetRecord".to_vec(), b"patient-42".to_vec(), Vec::new()]);
    assert_eq!(input.decorations.len(), 2);
    assert_eq!(input.decorations["decoration-a"], b"alpha");
    assert_eq!(input.decorations["decoration-b"], b"");
    assert!(!input.is_init);
}

#[test]
fn chaincode_proposal_payload_with_transient_map() {
    let payload: protos::ChaincodeProposalPayload =
        roundtrip_unordered("chaincode_proposal_payload", fixture!("chaincode_proposal_payload"));
    assert_eq!(payload.input, fixture!("chaincode_invocation_spec"));
    assert_eq!(payload.transient_map.len(), 2);
    assert_eq!(payload.transient_map["secret"], [0u8, 1, 2]);
    assert_eq!(payload.transient_map["ssn"], b"123-45-6789");
}

#[test]
fn proposal() {
    let p: protos::Proposal = roundtrip("proposal", fixture!("proposal"));
    assert_eq!(p.header, fixture!("header"));
    assert_eq!(p.payload, fixture!("chaincode_proposal_payload"));
    assert_eq!(p.extension, b"ext");
}

// --- chaincode shim stream ---------------------------------------------------

#[test]
fn chaincode_message_register() {
    let msg: protos::ChaincodeMessage = roundtrip("chaincode_message_register", fixture!("chaincode_message_register"));
    assert_eq!(msg.r#type(), protos::chaincode_message::Type::Register);
    assert_eq!(msg.r#type, 1);
    let id: protos::ChaincodeId = roundtrip("register.payload", &msg.payload);
    assert_eq!(id.name, "ehr_1.0:0123abcd");
    assert!(id.path.is_empty() && id.version.is_empty());
    assert!(msg.txid.is_empty() && msg.channel_id.is_empty());
    assert!(msg.timestamp.is_none() && msg.proposal.is_none());
}

#[test]
fn chaincode_message_ready_with_additional_params() {
    let msg: protos::ChaincodeMessage = roundtrip("chaincode_message_ready", fixture!("chaincode_message_ready"));
    assert_eq!(msg.r#type(), protos::chaincode_message::Type::Ready);
    let params: protos::ChaincodeAdditionalParams = roundtrip("ready.payload", &msg.payload);
    assert_eq!(
        params,
        protos::ChaincodeAdditionalParams {
            use_write_batch: true,
            max_size_write_batch: 1000,
            use_get_multiple_keys: true,
            max_size_get_multiple_keys: 300,
        }
    );
}

#[test]
fn chaincode_message_transaction() {
    let msg: protos::ChaincodeMessage =
        roundtrip("chaincode_message_transaction", fixture!("chaincode_message_transaction"));
    assert_eq!(msg.r#type(), protos::chaincode_message::Type::Transaction);
    assert_eq!(msg.timestamp, ts(1_700_000_000, 123_456_789));
    assert_eq!(msg.txid, TX_ID);
    assert_eq!(msg.channel_id, CHANNEL);
    assert_eq!(msg.payload, fixture!("chaincode_input"));
    assert!(msg.chaincode_event.is_none());

    let sp = msg.proposal.expect("signed proposal");
    assert_eq!(sp.proposal_bytes, fixture!("proposal"));
    assert_eq!(sp.signature, b"\x30\x45\x02\x21sig");

    // Walk the nested, opaque byte fields down to the creator identity.
    let proposal: protos::Proposal = roundtrip("proposal", &sp.proposal_bytes);
    let header: common::Header = roundtrip("header", &proposal.header);
    let sh: common::SignatureHeader = roundtrip("signature_header", &header.signature_header);
    let creator: msp::SerializedIdentity = roundtrip("creator", &sh.creator);
    assert_eq!(creator.mspid, "Org1MSP");
    let input: protos::ChaincodeInput = roundtrip_unordered("payload", &msg.payload);
    assert_eq!(input.args[0], b"GetRecord");
}

#[test]
fn write_batch_state() {
    use protos::write_record::Type;

    let batch: protos::WriteBatchState = roundtrip("write_batch_state", fixture!("write_batch_state"));
    assert_eq!(batch.rec.len(), 4);

    let put = &batch.rec[0];
    assert_eq!(put.r#type(), Type::PutState);
    assert_eq!(put.r#type, 9);
    assert_eq!(put.key, "patient-42");
    assert_eq!(put.value, br#"{"bp":"120/80"}"#);
    assert!(put.collection.is_empty() && put.metadata.is_none());

    let del = &batch.rec[1];
    assert_eq!(del.r#type(), Type::DelState);
    assert_eq!(del.r#type, 10);
    assert_eq!(del.key, "patient-41");

    let meta = &batch.rec[2];
    assert_eq!(meta.r#type(), Type::PutStateMetadata);
    assert_eq!(meta.r#type, 21);
    assert_eq!(meta.collection, "PrivateCollection");
    assert_eq!(
        meta.metadata,
        Some(protos::StateMetadata { metakey: "VALIDATION_PARAMETER".into(), value: b"policy-bytes".to_vec() })
    );

    let purge = &batch.rec[3];
    assert_eq!(purge.r#type(), Type::PurgePrivateData);
    assert_eq!(purge.r#type, 23);
    assert_eq!(purge.key, "patient-40");
    assert_eq!(purge.collection, "PrivateCollection");
}

#[test]
fn chaincode_message_write_batch() {
    let msg: protos::ChaincodeMessage =
        roundtrip("chaincode_message_write_batch", fixture!("chaincode_message_write_batch"));
    assert_eq!(msg.r#type(), protos::chaincode_message::Type::WriteBatchState);
    assert_eq!(msg.r#type, 24);
    assert_eq!(msg.payload, fixture!("write_batch_state"));
    assert_eq!(msg.txid, TX_ID);
    assert_eq!(msg.channel_id, CHANNEL);
}

#[test]
fn chaincode_message_type_numbers() {
    use protos::chaincode_message::Type;
    // Values added in newer Fabric releases; fixtures cover REGISTER, READY,
    // TRANSACTION and WRITE_BATCH_STATE on the wire.
    assert_eq!(Type::PurgePrivateData as i32, 23);
    assert_eq!(Type::WriteBatchState as i32, 24);
    assert_eq!(Type::GetStateMultiple as i32, 25);
    assert_eq!(Type::from_str_name("GET_STATE_MULTIPLE"), Some(Type::GetStateMultiple));
    assert_eq!(Type::Keepalive.as_str_name(), "KEEPALIVE");
}

#[test]
fn get_state_multiple() {
    let req: protos::GetStateMultiple = roundtrip("get_state_multiple", fixture!("get_state_multiple"));
    assert_eq!(req.keys, ["patient-40", "patient-41", "patient-42"]);
    assert_eq!(req.collection, "PrivateCollection");

    let res: protos::GetStateMultipleResult =
        roundtrip("get_state_multiple_result", fixture!("get_state_multiple_result"));
    assert_eq!(res.values, vec![b"v40".to_vec(), Vec::new(), b"v42".to_vec()]);
}

#[test]
fn get_state_by_range_with_query_metadata() {
    let req: protos::GetStateByRange = roundtrip("get_state_by_range", fixture!("get_state_by_range"));
    assert_eq!(req.start_key, "patient-00");
    assert_eq!(req.end_key, "patient-99");
    assert!(req.collection.is_empty());
    let meta: protos::QueryMetadata = roundtrip("get_state_by_range.metadata", &req.metadata);
    assert_eq!(meta.page_size, 25);
    assert_eq!(meta.bookmark, "bm-1");
}

#[test]
fn query_response() {
    let res: protos::QueryResponse = roundtrip("query_response", fixture!("query_response"));
    assert!(res.has_more);
    assert_eq!(res.id, "iter-7");
    assert_eq!(res.results.len(), 2);
    assert_eq!(res.results[0].result_bytes, fixture!("kv"));
    let second: queryresult::Kv = roundtrip("query_response.results[1]", &res.results[1].result_bytes);
    assert_eq!((second.namespace.as_str(), second.key.as_str()), ("ehr", "patient-43"));
    assert!(second.value.is_empty());
    let meta: protos::QueryResponseMetadata = roundtrip("query_response.metadata", &res.metadata);
    assert_eq!(meta.fetched_records_count, 2);
    assert_eq!(meta.bookmark, "patient-44");
}

#[test]
fn kv() {
    let kv: queryresult::Kv = roundtrip("kv", fixture!("kv"));
    assert_eq!(kv.namespace, "ehr");
    assert_eq!(kv.key, "patient-42");
    assert_eq!(kv.value, br#"{"bp":"120/80"}"#);
}

#[test]
fn key_modification() {
    let km: queryresult::KeyModification = roundtrip("key_modification", fixture!("key_modification"));
    assert_eq!(km.tx_id, TX_ID);
    assert!(km.value.is_empty());
    assert_eq!(km.timestamp, ts(1_699_999_999, 5));
    assert!(km.is_delete);
}

#[test]
fn state_metadata_result() {
    let res: protos::StateMetadataResult = roundtrip("state_metadata_result", fixture!("state_metadata_result"));
    assert_eq!(res.entries.len(), 1);
    assert_eq!(res.entries[0].metakey, "VALIDATION_PARAMETER");
    assert_eq!(res.entries[0].value, b"policy-bytes");
}

// --- events, responses -------------------------------------------------------

#[test]
fn chaincode_event() {
    let ev: protos::ChaincodeEvent = roundtrip("chaincode_event", fixture!("chaincode_event"));
    assert_eq!(ev.chaincode_id, "ehr");
    assert_eq!(ev.tx_id, TX_ID);
    assert_eq!(ev.event_name, "RecordCreated");
    assert_eq!(ev.payload, br#"{"id":42}"#);
}

#[test]
fn proposal_response() {
    let pr: protos::ProposalResponse = roundtrip("proposal_response", fixture!("proposal_response"));
    assert_eq!(pr.version, 1);
    assert_eq!(pr.timestamp, ts(1_700_000_001, 0));
    assert_eq!(pr.response, Some(protos::Response { status: 200, message: "OK".into(), payload: b"result".to_vec() }));
    let prp: protos::ProposalResponsePayload = roundtrip("proposal_response.payload", &pr.payload);
    assert_eq!(prp.proposal_hash, seq(0, 32));
    assert_eq!(prp.extension, b"chaincode-action");
    let endorsement = pr.endorsement.expect("endorsement");
    assert_eq!(endorsement.endorser, fixture!("serialized_identity"));
    assert_eq!(endorsement.signature, b"endorser-signature");
    let interest = pr.interest.expect("interest");
    assert_eq!(interest.chaincodes.len(), 1);
    let call = &interest.chaincodes[0];
    assert_eq!(call.name, "ehr");
    assert_eq!(call.collection_names, ["PrivateCollection"]);
    assert!(call.no_private_reads);
    assert!(!call.no_public_writes);
    assert!(call.key_policies.is_empty());
    assert!(call.disregard_namespace_policy);
}

// --- policies and collections ------------------------------------------------

fn assert_two_of_two(env: &common::SignaturePolicyEnvelope) {
    use common::signature_policy::Type;

    assert_eq!(env.version, 0);
    let Some(Type::NOutOf(n_out_of)) = env.rule.as_ref().and_then(|r| r.r#type.as_ref()) else {
        panic!("expected an n_out_of rule, got {:?}", env.rule);
    };
    assert_eq!(n_out_of.n, 2);
    let signers: Vec<_> = n_out_of.rules.iter().map(|r| r.r#type.clone()).collect();
    // signed_by = 0 is still present on the wire because it is a oneof member.
    assert_eq!(signers, [Some(Type::SignedBy(0)), Some(Type::SignedBy(1))]);

    let msps: Vec<String> = env
        .identities
        .iter()
        .map(|p| {
            assert_eq!(p.principal_classification(), common::msp_principal::Classification::Role);
            let role: common::MspRole = roundtrip("principal", &p.principal);
            assert_eq!(role.role(), common::msp_role::MspRoleType::Member);
            role.msp_identifier
        })
        .collect();
    assert_eq!(msps, ["Org1MSP", "Org2MSP"]);
}

#[test]
fn signature_policy_envelope() {
    let env: common::SignaturePolicyEnvelope =
        roundtrip("signature_policy_envelope", fixture!("signature_policy_envelope"));
    assert_two_of_two(&env);
}

#[test]
fn collection_config_package() {
    use protos::{application_policy, collection_config, collection_policy_config};

    let pkg: protos::CollectionConfigPackage =
        roundtrip("collection_config_package", fixture!("collection_config_package"));
    assert_eq!(pkg.config.len(), 1);
    let Some(collection_config::Payload::StaticCollectionConfig(cfg)) = &pkg.config[0].payload else {
        panic!("expected a static collection config");
    };
    assert_eq!(cfg.name, "PrivateCollection");
    assert_eq!(cfg.required_peer_count, 1);
    assert_eq!(cfg.maximum_peer_count, 3);
    assert_eq!(cfg.block_to_live, 1_000_000);
    assert!(cfg.member_only_read);
    assert!(cfg.member_only_write);
    let Some(collection_policy_config::Payload::SignaturePolicy(env)) =
        cfg.member_orgs_policy.as_ref().and_then(|p| p.payload.as_ref())
    else {
        panic!("expected a member_orgs signature policy");
    };
    assert_two_of_two(env);
    assert_eq!(
        cfg.endorsement_policy.as_ref().and_then(|p| p.r#type.clone()),
        Some(application_policy::Type::ChannelConfigPolicyReference("/Channel/Application/Endorsement".into()))
    );
}

// --- gateway ----------------------------------------------------------------

#[test]
fn gateway_endorse_request() {
    let req: gateway::EndorseRequest = roundtrip("gateway_endorse_request", fixture!("gateway_endorse_request"));
    assert_eq!(req.transaction_id, TX_ID);
    assert_eq!(req.channel_id, CHANNEL);
    let sp = req.proposed_transaction.expect("proposed_transaction");
    assert_eq!(sp.proposal_bytes, fixture!("proposal"));
    assert_eq!(sp.signature, b"\x30\x45\x02\x21sig");
    assert_eq!(req.endorsing_organizations, ["Org1MSP", "Org2MSP"]);
}

#[test]
fn gateway_evaluate_response() {
    let res: gateway::EvaluateResponse = roundtrip("gateway_evaluate_response", fixture!("gateway_evaluate_response"));
    assert_eq!(
        res.result,
        Some(protos::Response { status: 200, message: String::new(), payload: br#"{"id":42}"#.to_vec() })
    );
}

#[test]
fn gateway_error_detail() {
    let detail: gateway::ErrorDetail = roundtrip("gateway_error_detail", fixture!("gateway_error_detail"));
    assert_eq!(detail.address, "peer0.org1.example.com:7051");
    assert_eq!(detail.msp_id, "Org1MSP");
    assert_eq!(detail.message, "chaincode response 500, record not found");
}

#[test]
fn gateway_commit_status_response() {
    let res: gateway::CommitStatusResponse =
        roundtrip("gateway_commit_status_response", fixture!("gateway_commit_status_response"));
    assert_eq!(res.result(), protos::TxValidationCode::MvccReadConflict);
    assert_eq!(res.block_number, 1234);
}

#[test]
fn gateway_chaincode_events_request() {
    let req: gateway::ChaincodeEventsRequest =
        roundtrip("gateway_chaincode_events_request", fixture!("gateway_chaincode_events_request"));
    assert_eq!(req.channel_id, CHANNEL);
    assert_eq!(req.chaincode_id, "ehr");
    assert_eq!(req.identity, fixture!("serialized_identity"));
    assert_eq!(
        req.start_position,
        Some(orderer::SeekPosition {
            r#type: Some(orderer::seek_position::Type::Specified(orderer::SeekSpecified { number: 101 })),
        })
    );
    assert_eq!(req.after_transaction_id, TX_ID);
}

// --- orderer / deliver -------------------------------------------------------

#[test]
fn seek_info() {
    use orderer::seek_position::Type;

    let info: orderer::SeekInfo = roundtrip("seek_info", fixture!("seek_info"));
    assert_eq!(info.start.and_then(|p| p.r#type), Some(Type::Specified(orderer::SeekSpecified { number: 5 })));
    // An empty message selected in a oneof survives the round trip.
    assert_eq!(info.stop.and_then(|p| p.r#type), Some(Type::Newest(orderer::SeekNewest {})));
    assert_eq!(info.behavior(), orderer::seek_info::SeekBehavior::FailIfNotReady);
    assert_eq!(info.error_response(), orderer::seek_info::SeekErrorResponse::BestEffort);
    assert_eq!(info.content_type(), orderer::seek_info::SeekContentType::HeaderWithSig);
}

#[test]
fn peer_deliver_response_filtered_block() {
    use protos::deliver_response::Type;
    use protos::filtered_transaction::Data;

    let res: protos::DeliverResponse =
        roundtrip("peer_deliver_response_filtered", fixture!("peer_deliver_response_filtered"));
    let Some(Type::FilteredBlock(block)) = res.r#type else {
        panic!("expected a filtered block");
    };
    assert_eq!(block.channel_id, CHANNEL);
    assert_eq!(block.number, 42);
    assert_eq!(block.filtered_transactions.len(), 1);
    let tx = &block.filtered_transactions[0];
    assert_eq!(tx.txid, TX_ID);
    assert_eq!(tx.r#type(), common::HeaderType::EndorserTransaction);
    assert_eq!(tx.tx_validation_code(), protos::TxValidationCode::EndorsementPolicyFailure);
    let Some(Data::TransactionActions(actions)) = &tx.data else {
        panic!("expected transaction actions");
    };
    let event = actions.chaincode_actions[0].chaincode_event.as_ref().expect("chaincode_event");
    assert_eq!(event.chaincode_id, "ehr");
    assert_eq!(event.event_name, "RecordCreated");
    assert!(event.payload.is_empty());
}

// --- read-write sets ---------------------------------------------------------

#[test]
fn kv_rwset() {
    let set: kvrwset::KvrwSet = roundtrip("kv_rwset", fixture!("kv_rwset"));
    assert_eq!(set.reads.len(), 1);
    assert_eq!(set.reads[0].key, "patient-42");
    assert_eq!(set.reads[0].version, Some(kvrwset::Version { block_num: 10, tx_num: 3 }));

    let range = &set.range_queries_info[0];
    assert_eq!((range.start_key.as_str(), range.end_key.as_str()), ("a", "z"));
    assert!(range.itr_exhausted);
    let Some(kvrwset::range_query_info::ReadsInfo::RawReads(raw)) = &range.reads_info else {
        panic!("expected raw reads");
    };
    assert_eq!(raw.kv_reads[0].key, "b");
    assert!(raw.kv_reads[0].version.is_none());

    assert_eq!(
        set.writes,
        [
            kvrwset::KvWrite { key: "patient-42".into(), is_delete: false, value: b"new".to_vec() },
            kvrwset::KvWrite { key: "patient-41".into(), is_delete: true, value: Vec::new() },
        ]
    );
    assert_eq!(set.metadata_writes[0].key, "patient-42");
    assert_eq!(set.metadata_writes[0].entries[0].name, "VALIDATION_PARAMETER");
    assert_eq!(set.metadata_writes[0].entries[0].value, b"p");
}

#[test]
fn tx_read_write_set() {
    let tx: rwset::TxReadWriteSet = roundtrip("tx_read_write_set", fixture!("tx_read_write_set"));
    assert_eq!(tx.data_model(), rwset::tx_read_write_set::DataModel::Kv);
    assert_eq!(tx.ns_rwset.len(), 1);
    let ns = &tx.ns_rwset[0];
    assert_eq!(ns.namespace, "ehr");
    assert_eq!(ns.rwset, fixture!("kv_rwset"));
    let coll = &ns.collection_hashed_rwset[0];
    assert_eq!(coll.collection_name, "PrivateCollection");
    assert_eq!(coll.hashed_rwset, b"hashed");
    assert_eq!(coll.pvt_rwset_hash, b"pvt-hash");
}

// --- Rust-built messages -----------------------------------------------------

/// Builds the READY fixture from scratch in Rust: our encoder must produce
/// exactly what Fabric's produces.
#[test]
fn rust_built_message_matches_fabric_bytes() {
    let params = protos::ChaincodeAdditionalParams {
        use_write_batch: true,
        max_size_write_batch: 1000,
        use_get_multiple_keys: true,
        max_size_get_multiple_keys: 300,
    };
    let mut msg = protos::ChaincodeMessage { payload: params.encode_to_vec(), ..Default::default() };
    msg.set_type(protos::chaincode_message::Type::Ready);
    assert_eq!(msg.encode_to_vec(), fixture!("chaincode_message_ready"));

    let mut seek = orderer::SeekInfo {
        start: Some(orderer::SeekPosition {
            r#type: Some(orderer::seek_position::Type::Specified(orderer::SeekSpecified { number: 5 })),
        }),
        stop: Some(orderer::SeekPosition {
            r#type: Some(orderer::seek_position::Type::Newest(orderer::SeekNewest {})),
        }),
        ..Default::default()
    };
    seek.set_behavior(orderer::seek_info::SeekBehavior::FailIfNotReady);
    seek.set_error_response(orderer::seek_info::SeekErrorResponse::BestEffort);
    seek.set_content_type(orderer::seek_info::SeekContentType::HeaderWithSig);
    assert_eq!(seek.encode_to_vec(), fixture!("seek_info"));
}
