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
