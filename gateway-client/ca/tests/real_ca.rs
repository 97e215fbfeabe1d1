//! Enrol, register and re-enrol against a real `fabric-ca-server` started
//! here in a temporary folder (TLS on, free ports), and check the errors
//! people will meet: wrong secret, used-up enrolments, unreachable CA, wrong
//! TLS root or host, a non-registrar registering.
//!
//! The server binary comes from `fabric-network/scripts/install-binaries.sh`
//! (`$FABRIC_BIN` or `fabric-network/bin/fabric-<version>` as that script
//! computes it); the test fails, not skips, when it is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fabric_ca_client::{
    Attribute, CaClient, CaError, EnrollOptions, Enrollment, IdentityMeta, RegistrationRequest, Wallet,
};
use x509_parser::prelude::{FromDer, X509Certificate};

const CA_NAME: &str = "ca-test";
/// Where fabric-ca puts the attributes of `ecert: true` (Fabric's `attrmgr`).
const ATTRIBUTES_OID: &str = "1.2.3.4.5.6.7.8.1";

fn network_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fabric-network")
}

/// The folder `install-binaries.sh` installs into: `bin/fabric-<version>`,
/// the version chosen by `FABRIC_LINE` (default 3.1) in `versions.env`.
fn fabric_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("FABRIC_BIN") {
        return PathBuf::from(dir);
    }
    let versions_path = network_dir().join("versions.env");
    let versions = std::fs::read_to_string(&versions_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", versions_path.display()));
    let line = std::env::var("FABRIC_LINE").unwrap_or_else(|_| "3.1".into());
    let key = format!("FABRIC_{}_VERSION=", line.replace('.', "_"));
    let version = versions
        .lines()
        .find_map(|l| l.trim().strip_prefix(&key))
        .unwrap_or_else(|| panic!("{} has no {key}", versions_path.display()))
        .trim_matches('"');
    network_dir().join("bin").join(format!("fabric-{version}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `fabric-ca-server`, killed when dropped.
struct CaServer {
    child: Child,
    home: tempfile::TempDir,
    port: u16,
}

impl CaServer {
    fn start() -> Self {
        let binary = fabric_bin().join("fabric-ca-server");
        assert!(
            binary.is_file(),
            "{} is missing: run fabric-network/scripts/install-binaries.sh (or set FABRIC_BIN to the folder holding \
             fabric-ca-server)",
            binary.display()
        );
        let home = tempfile::tempdir().unwrap();
        let (port, ops_port) = (free_port(), free_port());
        let log = std::fs::File::create(home.path().join("server.log")).unwrap();
        let child = Command::new(&binary)
            .args(["start", "-b", "admin:adminpw", "--address", "127.0.0.1", "--port", &port.to_string()])
            .args(["--ca.name", CA_NAME, "--tls.enabled", "--metrics.provider", "disabled"])
            .arg("--operations.listenaddress")
            .arg(format!("127.0.0.1:{ops_port}"))
            .arg("-H")
            .arg(home.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut server = CaServer { child, home, port };
        server.wait_listening();
        server
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("fabric-ca-server exited ({status}) before listening:\n{}", self.log());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(Instant::now() < deadline, "fabric-ca-server did not listen within 20 s:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("server.log")).unwrap_or_default()
    }

    /// The server generates its TLS certificate signed by its CA certificate,
    /// for DNS names localhost and the host name (not 127.0.0.1), so the CA
    /// certificate is the TLS root and localhost the host to dial.
    fn tls_root(&self) -> PathBuf {
        self.home.path().join("ca-cert.pem")
    }

    fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    fn client(&self) -> CaClient {
        CaClient::from_tls_root_file(&self.url(), CA_NAME, &self.tls_root()).unwrap()
    }
}

impl Drop for CaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn der(pem: &str) -> Vec<u8> {
    x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap().1.contents
}

fn common_name(cert: &X509Certificate<'_>) -> String {
    cert.subject().iter_common_name().next().unwrap().as_str().unwrap().to_string()
}

/// The attributes fabric-ca put into the certificate (`{"attrs": {...}}`).
fn attributes(cert: &X509Certificate<'_>) -> serde_json::Map<String, serde_json::Value> {
    let ext = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == ATTRIBUTES_OID)
        .unwrap_or_else(|| panic!("no extension {ATTRIBUTES_OID} in the certificate of {}", common_name(cert)));
    let json: serde_json::Value = serde_json::from_slice(ext.value).unwrap();
    json["attrs"].as_object().unwrap().clone()
}

/// The certificate names the enrolment's key, which the CA never saw.
fn assert_certifies_own_key(enrollment: &Enrollment, cn: &str) {
    let der = der(&enrollment.certificate_pem);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    assert_eq!(common_name(&cert), cn);
    assert_eq!(cert.public_key().subject_public_key.data.as_ref(), enrollment.signer.public_key_sec1().as_slice());
    enrollment.identity("TestMSP").unwrap().check_signer(&enrollment.signer).unwrap();
}

#[tokio::test]
async fn enrol_register_reenrol_and_the_errors_people_meet() {
    let started = Instant::now();
    let server = CaServer::start();
    let ca = server.client();
    let options = EnrollOptions::default();

    // The bootstrap admin enrols with its secret; the chain is the CA's certificate.
    let admin = ca.enroll("admin", "adminpw", &options).await.unwrap();
    assert_certifies_own_key(&admin, "admin");
    let ca_cert = std::fs::read_to_string(server.tls_root()).unwrap();
    assert_eq!(der(&admin.ca_chain_pem), der(&ca_cert));

    // Register a doctor with attributes for the chaincode's access control.
    let mut request = RegistrationRequest::new("doctor9");
    request.secret = Some("doctor9pw".into());
    request.attributes = vec![Attribute::ecert("role", "doctor"), Attribute::ecert("patient_id", "P-9")];
    let secret = ca.register(admin.certificate_pem.as_bytes(), &admin.signer, &request).await.unwrap();
    assert_eq!(secret, "doctor9pw");

    // Its certificate carries them, and certifies the key generated here.
    let doctor = ca.enroll("doctor9", "doctor9pw", &options).await.unwrap();
    assert_certifies_own_key(&doctor, "doctor9");
    let doctor_der = der(&doctor.certificate_pem);
    let (_, doctor_cert) = X509Certificate::from_der(&doctor_der).unwrap();
    let attrs = attributes(&doctor_cert);
    assert_eq!(attrs["role"], "doctor");
    assert_eq!(attrs["patient_id"], "P-9");
    assert_eq!(attrs["hf.EnrollmentID"], "doctor9");
    assert_eq!(attrs["hf.Type"], "client");

    // A secret the CA makes up.
    let generated =
        ca.register(admin.certificate_pem.as_bytes(), &admin.signer, &RegistrationRequest::new("nurse3")).await;
    let generated = generated.unwrap();
    assert!(generated.len() >= 8, "{generated:?}");
    assert_certifies_own_key(&ca.enroll("nurse3", &generated, &options).await.unwrap(), "nurse3");

    // Re-enrolment: a new certificate for a new key, same identity and attributes.
    let renewed = ca.reenroll(doctor.certificate_pem.as_bytes(), &doctor.signer, &options).await.unwrap();
    assert_certifies_own_key(&renewed, "doctor9");
    assert_ne!(renewed.signer.public_key_sec1(), doctor.signer.public_key_sec1());
    let renewed_der = der(&renewed.certificate_pem);
    let (_, renewed_cert) = X509Certificate::from_der(&renewed_der).unwrap();
    assert_ne!(renewed_cert.raw_serial(), doctor_cert.raw_serial());
    assert_eq!(attributes(&renewed_cert)["patient_id"], "P-9");
    // Re-enrolling with a key that is not the certificate's is caught before sending.
    let err = ca.reenroll(doctor.certificate_pem.as_bytes(), &renewed.signer, &options).await.unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");

    // The enrolment keeps in a wallet.
    let wallet_dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::new(wallet_dir.path());
    let meta = IdentityMeta {
        msp_id: "TestMSP".into(),
        label: "doctor9@test".into(),
        enrollment_id: "doctor9".into(),
        ca_url: Some(ca.url().into()),
    };
    wallet.put(&meta, renewed.certificate_pem.as_bytes(), &renewed.signer).unwrap();
    let entry = wallet.get("doctor9@test").unwrap();
    assert_eq!(entry.signer.public_key_sec1(), renewed.signer.public_key_sec1());
    entry.identity.certificate().check_not_expired("doctor9@test", std::time::SystemTime::now()).unwrap();

    // Wrong secret, unknown id: one clear refusal.
    for (id, secret) in [("doctor9", "wrong"), ("nobody", "nobodypw")] {
        let err = ca.enroll(id, secret, &options).await.unwrap_err();
        assert!(matches!(err, CaError::EnrollmentRefused { code: 20, .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&format!("the CA refused enrolment id {id}: wrong secret or unknown id")), "{text}");
        assert!(text.contains("check the secret your registrar gave you"), "{text}");
    }

    // Enrolments used up.
    let mut once = RegistrationRequest::new("visitor1");
    once.secret = Some("visitor1pw".into());
    once.max_enrollments = Some(1);
    ca.register(admin.certificate_pem.as_bytes(), &admin.signer, &once).await.unwrap();
    ca.enroll("visitor1", "visitor1pw", &options).await.unwrap();
    let err = ca.enroll("visitor1", "visitor1pw", &options).await.unwrap_err().to_string();
    assert!(err.contains("may have used all its enrolments"), "{err}");

    // A plain user is no registrar.
    let err = ca
        .register(doctor.certificate_pem.as_bytes(), &doctor.signer, &RegistrationRequest::new("mallory"))
        .await
        .unwrap_err();
    assert!(matches!(err, CaError::NotRegistrar { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("refused to let doctor9 register mallory") && text.contains("not a registrar"), "{text}");

    // A name is registered once.
    let err = ca.register(admin.certificate_pem.as_bytes(), &admin.signer, &request).await.unwrap_err();
    assert!(matches!(err, CaError::AlreadyRegistered { .. }), "{err:?}");

    // A CA name the server does not have.
    let other = CaClient::from_tls_root_file(&server.url(), "ca-nope", &server.tls_root()).unwrap();
    let err = other.enroll("admin", "adminpw", &options).await.unwrap_err().to_string();
    assert!(err.contains("no CA named ca-nope"), "{err}");

    // Nothing listening: name the URL and say how to start the network.
    let closed = format!("https://localhost:{}", free_port());
    let err = CaClient::from_tls_root_file(&closed, CA_NAME, &server.tls_root())
        .unwrap()
        .enroll("admin", "adminpw", &options)
        .await
        .unwrap_err();
    assert!(matches!(err, CaError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&closed) && text.contains("fabric-network/network.sh up"), "{text}");

    // A root that did not sign the server's certificate: name the root file.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let stranger = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap();
    let stranger_path = wallet_dir.path().join("stranger-root.pem");
    std::fs::write(&stranger_path, stranger.pem()).unwrap();
    let err = CaClient::from_tls_root_file(&server.url(), CA_NAME, &stranger_path)
        .unwrap()
        .enroll("admin", "adminpw", &options)
        .await
        .unwrap_err();
    assert!(matches!(err, CaError::Tls { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&stranger_path.display().to_string()) && text.contains("not signed by"), "{text}");

    // The right root but a host the certificate does not name.
    let by_ip = format!("https://127.0.0.1:{}", server.port);
    let err = CaClient::from_tls_root_file(&by_ip, CA_NAME, &server.tls_root())
        .unwrap()
        .enroll("admin", "adminpw", &options)
        .await
        .unwrap_err();
    assert!(matches!(err, CaError::Tls { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("does not name the host 127.0.0.1"), "{text}");

    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}
