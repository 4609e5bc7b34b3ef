//! The TLS client certificate's validity, read from its PEM file: `doctor` reports it, the
//! daemon exports it as a metric and warns in its log when it nears expiry (60 days ahead,
//! as Tulorekisteri does for its certificates).

use chrono::{DateTime, Utc};
use std::path::Path;

/// Warn this long before the client certificate expires.
pub const EXPIRY_WARNING: chrono::Duration = chrono::Duration::days(60);

/// When the first certificate in a PEM file stops being valid.
pub fn not_after(path: &Path) -> anyhow::Result<DateTime<Utc>> {
    let text = std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the client certificate {}: {e}; check client_cert and the file's permissions",
            path.display()
        )
    })?;
    for pem in x509_parser::pem::Pem::iter_from_buffer(&text) {
        let pem = pem.map_err(|e| {
            anyhow::anyhow!(
                "client certificate {} is not valid PEM: {e}",
                path.display()
            )
        })?;
        if pem.label != "CERTIFICATE" {
            continue;
        }
        let cert = pem.parse_x509().map_err(|e| {
            anyhow::anyhow!(
                "client certificate {} holds a certificate that does not parse: {e}",
                path.display()
            )
        })?;
        let secs = cert.validity().not_after.timestamp();
        return DateTime::from_timestamp(secs, 0).ok_or_else(|| {
            anyhow::anyhow!(
                "client certificate {}: expiry {secs} is out of range",
                path.display()
            )
        });
    }
    anyhow::bail!(
        "client certificate {} holds no -----BEGIN CERTIFICATE----- block",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_expiry_of_the_first_certificate_next_to_its_key() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["ptv-sync.example.fi".into()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 3, 14);
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.pem");
        // Key first, as some exports write it: the certificate is still found.
        std::fs::write(&path, format!("{}{}", key.serialize_pem(), cert.pem())).unwrap();
        let t = not_after(&path).unwrap();
        assert_eq!(t.format("%Y-%m-%d").to_string(), "2031-03-14");

        std::fs::write(&path, key.serialize_pem()).unwrap();
        let err = not_after(&path).unwrap_err().to_string();
        assert!(err.contains("no -----BEGIN CERTIFICATE-----"), "{err}");
        let err = not_after(&dir.path().join("missing.pem"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing.pem") && err.contains("client_cert"),
            "{err}"
        );
    }
}
