//! Database URLs given by the operator (the `PostgreSQL` state store, the `sql` source):
//! whether they carry a password, how to show them, how to keep their password out of a
//! driver's message, and whether the connection checks the server's certificate.
//!
//! Imports only `secret` from the crate: both the store and the sources use it.

/// Whether the URL holds a password (in its userinfo or a `password=` parameter).
#[must_use]
pub fn has_password(raw: &str) -> bool {
    url::Url::parse(raw).is_ok_and(|u| {
        u.password().is_some_and(|p| !p.is_empty())
            || u.query_pairs()
                .any(|(k, _)| k.eq_ignore_ascii_case("password"))
    })
}

/// The URL with any password replaced by `***`. A URL that does not parse is not shown,
/// since it might hold a password anywhere.
#[must_use]
pub fn redact(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return "<unparseable URL>".to_owned();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"))
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// `text` without the URL's password in any form a driver might echo it: as written,
/// percent-decoded, or escaped inside JSON.
#[must_use]
pub fn scrub(raw: &str, text: &str) -> String {
    let Ok(url) = url::Url::parse(raw) else {
        return text.to_owned();
    };
    let mut secrets: Vec<String> = Vec::new();
    if let Some(p) = url.password() {
        secrets.push(p.to_owned());
        secrets.push(
            url::form_urlencoded::parse(format!("p={p}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default(),
        );
    }
    for (k, v) in url.query_pairs() {
        if k.eq_ignore_ascii_case("password") {
            secrets.push(v.into_owned());
        }
    }
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        for form in crate::secret::escaped_forms(s) {
            out = out.replace(&form, "***");
        }
    }
    out
}

/// Refuses (in production) or warns about (in test) a `PostgreSQL` URL whose connection
/// would not check the server's certificate: sqlx's default `sslmode=prefer` encrypts
/// without authenticating, so anyone on the path can read the password. Loopback and Unix
/// sockets need no certificate. `what` names the database in the message.
pub fn check_tls(raw: &str, production: bool, what: &str) -> Result<(), String> {
    let Ok(url) = url::Url::parse(raw) else {
        // The driver reports an unusable URL better.
        return Ok(());
    };
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Ok(());
    }
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())
    };
    if param("sslmode").is_some_and(|m| matches!(m.as_str(), "verify-full" | "verify-ca")) {
        return Ok(());
    }
    let host = param("host").unwrap_or_else(|| url.host_str().unwrap_or_default().to_owned());
    if is_local(&host) {
        return Ok(());
    }
    let message = format!(
        "the {what} {} does not check the server's certificate; add ?sslmode=verify-full (or verify-ca) to the URL, or connect over loopback or a Unix socket",
        redact(raw)
    );
    if production {
        Err(message)
    } else {
        tracing::warn!("{message} (allowed in the test environment only)");
        Ok(())
    }
}

fn is_local(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.is_empty()
        || host.starts_with('/')
        || host.starts_with("%2F")
        || host.starts_with("%2f")
        || host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_certificates_and_scrubbing() {
        // issue 16 item 24
        assert!(!has_password("postgres://postgres@db.example.fi/db"));
        assert!(has_password("postgres://u:pw@db.example.fi/db"));
        assert!(has_password("postgres://u@db.example.fi/db?password=pw"));
        // issue 16 item 10
        let remote = "postgres://u:pw@db.example.fi/db";
        let e = check_tls(remote, true, "state database").unwrap_err();
        assert!(
            e.contains("sslmode=verify-full") && !e.contains("pw@"),
            "{e}"
        );
        assert!(check_tls(remote, false, "state database").is_ok());
        for ok in [
            "postgres://u:pw@db.example.fi/db?sslmode=verify-full",
            "postgres://u:pw@db.example.fi/db?sslmode=verify-ca",
            "postgres://u:pw@127.0.0.1/db",
            "postgres://u:pw@[::1]:5432/db",
            "postgres://u:pw@localhost/db",
            "postgres:///db?host=/run/postgresql",
            "postgres://%2Frun%2Fpostgresql/db",
        ] {
            assert!(check_tls(ok, true, "x").is_ok(), "{ok}");
        }
        assert!(check_tls("postgres://u@db.example.fi/db?sslmode=require", true, "x").is_err());
        // issue 16 item 23
        let url = "postgres://u:p%22w%5Cd@db/x";
        let text = r#"bad {"password":"p\"w\\d"} and p"w\d"#;
        let out = scrub(url, text);
        assert!(!out.contains("w\\d") && !out.contains("w\\\\d"), "{out}");
    }
}
