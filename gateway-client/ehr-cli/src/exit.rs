//! The exit codes scripts rely on (also listed in `ehr --help`), and the
//! hints printed after an error: the binary's business, decided here from
//! the library's typed errors.

use ehr_client::EhrClientError;
use ehr_client::error::Refusal;
use ehr_client::files::FilesError;
use ehr_fhir::FhirError;
use fabric_ca_client::CaError;
use fabric_gateway_client::GatewayError;

/// Success.
pub(crate) const OK: u8 = 0;
/// Any other failure.
pub(crate) const FAILURE: u8 = 1;
/// Bad command line or settings (clap also uses 2).
pub(crate) const USAGE: u8 = 2;
/// The chaincode refused the input (400).
pub(crate) const BAD_INPUT: u8 = 3;
/// Not allowed (403), or the identity is unusable (expired, wrong key, wrong password).
pub(crate) const FORBIDDEN: u8 = 4;
/// Not found (404).
pub(crate) const NOT_FOUND: u8 = 5;
/// Conflict (409), e.g. a prescription already dispensed.
pub(crate) const CONFLICT: u8 = 6;
/// The network is unreachable or a call timed out.
pub(crate) const UNAVAILABLE: u8 = 7;
/// Data does not match its hash on the ledger.
pub(crate) const INTEGRITY: u8 = 8;

/// The exit code for `err`.
pub(crate) fn code(err: &EhrClientError) -> u8 {
    if let Some(refusal) = err.refusal() {
        return match refusal {
            Refusal::BadInput => BAD_INPUT,
            Refusal::Forbidden => FORBIDDEN,
            Refusal::NotFound => NOT_FOUND,
            Refusal::Conflict => CONFLICT,
        };
    }
    if err.is_unavailable() {
        return UNAVAILABLE;
    }
    match err {
        EhrClientError::Gateway(e) if e.chaincode().is_some() => FAILURE,
        EhrClientError::Gateway(GatewayError::Identity(_) | GatewayError::IdentityRefused { .. }) => FORBIDDEN,
        EhrClientError::Gateway(GatewayError::Usage(_)) => USAGE,
        EhrClientError::Identity(_) => FORBIDDEN,
        EhrClientError::Ca(fabric_ca_client::CaError::Config(_)) => USAGE,
        EhrClientError::Ca(_) => FORBIDDEN,
        EhrClientError::Files(FilesError::HashMismatch { .. } | FilesError::NotEncrypted { .. }) => INTEGRITY,
        EhrClientError::Config(_)
        | EhrClientError::Invalid(_)
        | EhrClientError::NoNetwork(_)
        | EhrClientError::NotSignedIn { .. }
        | EhrClientError::Usage(_) => USAGE,
        EhrClientError::Integrity(_) => INTEGRITY,
        EhrClientError::Fhir(FhirError::Refused { .. }) => BAD_INPUT,
        _ => FAILURE,
    }
}

/// The rest of an error that has several parts: every issue of a refused
/// FHIR bundle (on standard error), or in `--json` mode the refusal as the
/// FHIR `OperationOutcome` a FHIR client expects (on standard output).
pub(crate) fn details(err: &EhrClientError, json: bool) {
    let EhrClientError::Fhir(fhir) = err else { return };
    if json {
        println!("{}", fhir.operation_outcome());
    } else if let FhirError::Refused { issues } = fhir {
        for issue in issues {
            eprintln!("  {issue}");
        }
    }
}

/// A hint on what to do next, when the failure suggests one.
pub(crate) fn hint(err: &EhrClientError) -> Option<String> {
    let fixed = |hint: &str| Some(hint.to_owned());
    match err {
        EhrClientError::NoNetwork(_) => fixed(
            "start the local network with fabric-network/network.sh up (run ehr inside that checkout, or set \
             EHR_NETWORK_DIR to its fabric-network/state), or name your network's peer and TLS root",
        ),
        EhrClientError::NotSignedIn { identity, .. } => {
            Some(format!("run `ehr login --identity {identity}` to enrol it, or pick one listed by `ehr identities`"))
        }
        EhrClientError::Gateway(GatewayError::Connect { .. }) => {
            fixed("is the network up? start it with fabric-network/network.sh up, or set --peer / EHR_PEER")
        }
        EhrClientError::Gateway(GatewayError::Rpc { code: tonic::Code::Unavailable, .. }) => {
            fixed("the peer went away; check it with fabric-network/network.sh status and try again")
        }
        EhrClientError::Gateway(GatewayError::IdentityRefused { .. }) => fixed(
            "run `ehr login` again for a fresh certificate, or ask your organisation's admin whether it was revoked",
        ),
        EhrClientError::Gateway(GatewayError::Identity(_))
        | EhrClientError::Identity(_)
        | EhrClientError::Ca(CaError::Identity(_) | CaError::KeyMismatch { .. }) => {
            fixed("run `ehr login` again to get a fresh certificate and key")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fabric_identity::IdentityError;

    #[test]
    fn an_expired_or_mismatched_identity_is_not_allowed_and_points_to_login() {
        let expired = EhrClientError::Identity(IdentityError::Expired {
            subject: "doctor1@hospitala".into(),
            expired_on: "2020-03-04 00:00:00 UTC".into(),
        });
        assert_eq!(code(&expired), FORBIDDEN);
        assert_eq!(hint(&expired).as_deref(), Some("run `ehr login` again to get a fresh certificate and key"));
        let from_wallet = EhrClientError::Ca(CaError::KeyMismatch { label: "d".into() });
        assert_eq!(code(&from_wallet), FORBIDDEN);
        assert!(hint(&from_wallet).is_some_and(|h| h.contains("ehr login")));
    }

    #[test]
    fn no_network_and_no_identity_are_usage_errors_with_the_way_out() {
        let nowhere = EhrClientError::NoNetwork("no peer for organisation \"hospitala\"".into());
        assert_eq!(code(&nowhere), USAGE);
        assert!(hint(&nowhere).is_some_and(|h| h.contains("network.sh up") && h.contains("EHR_NETWORK_DIR")));
        let stranger = EhrClientError::NotSignedIn { identity: "nurse7@hospitala".into(), wallet: "/w".into() };
        assert_eq!(code(&stranger), USAGE);
        assert!(hint(&stranger).is_some_and(|h| h.contains("ehr login --identity nurse7@hospitala")));
    }
}
