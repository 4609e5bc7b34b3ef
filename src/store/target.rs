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

/// The URL with any password replaced by `***` ([`crate::db_url::redact`]): the store and
/// the `sql` source show database URLs the same way.
pub use crate::db_url::redact as redact_url;
/// Every form of the URL's password removed from a driver's message
/// ([`crate::db_url::scrub`]).
pub(crate) use crate::db_url::scrub as scrub_password;
