//! Where the state lives and how to open it.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::PathBuf;

/// The state database.
#[derive(Clone)]
pub enum StoreTarget {
    /// A `SQLite` file, e.g. `/var/lib/ptv-sync/state.db`.
    Sqlite { path: PathBuf },
    /// A `PostgreSQL` URL; may hold a password, so `Debug` and errors show it redacted.
    Postgres { url: SecretString },
}

impl StoreTarget {
    /// The target for messages: the `SQLite` path, or the URL without its password.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            StoreTarget::Sqlite { path } => path.display().to_string(),
            StoreTarget::Postgres { url } => redact_url(url.expose_secret()),
        }
    }
}

impl fmt::Debug for StoreTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreTarget::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            StoreTarget::Postgres { url } => f
                .debug_struct("Postgres")
                .field("url", &redact_url(url.expose_secret()))
                .finish(),
        }
    }
}

/// How [`super::open`] treats a missing or outdated database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// The daemon: create the state directory and database if missing, run migrations.
    CreateIfMissing,
    /// CLI commands, possibly run as another user: create nothing, migrate nothing; fail
    /// with a message saying what to do if the database is missing or outdated.
    MustExist,
}

/// The URL with any password (userinfo or `password=` query parameter) replaced by `***`.
/// A URL that does not parse is not shown at all, since it might hold a password anywhere.
#[must_use]
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return "<unparseable URL>".to_owned();
    };
    if url.password().is_some() {
        // Cannot fail for URLs that already have a password.
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

/// Removes every occurrence of the URL's password (raw and percent-decoded) from `text`,
/// for driver messages that might echo connection parameters.
#[must_use]
pub(crate) fn scrub_password(raw_url: &str, text: &str) -> String {
    let Ok(url) = url::Url::parse(raw_url) else {
        return text.to_owned();
    };
    let mut secrets: Vec<String> = Vec::new();
    if let Some(p) = url.password() {
        secrets.push(p.to_owned());
        if let Ok(decoded) = percent_decode(p) {
            secrets.push(decoded);
        }
    }
    for (k, v) in url.query_pairs() {
        if k.eq_ignore_ascii_case("password") {
            secrets.push(v.into_owned());
        }
    }
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(s.as_str(), "***");
    }
    out
}

fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}
