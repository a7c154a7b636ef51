//! Certificates for a test's own TLS servers: a CA, a server certificate it signed for
//! `localhost` only (so connecting to `127.0.0.1` is a wrong host name), and a CA that signed
//! nothing (a wrong CA), as PEM files.

use std::path::Path;

/// Writes `ca.pem`, `wrong-ca.pem`, `server.pem` and `server.key` into `dir`.
pub fn make(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "reset test CA");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server params")
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    let other_key = KeyPair::generate().expect("other CA key");
    let mut other = CertificateParams::new(Vec::<String>::new()).expect("other CA params");
    other.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let other_cert = other.self_signed(&other_key).expect("other CA certificate");
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write");
    std::fs::write(dir.join("wrong-ca.pem"), other_cert.pem()).expect("write");
    std::fs::write(dir.join("server.pem"), server.pem()).expect("write");
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).expect("write");
}
