//! Migrations built into the binary with `sqlx::migrate!`, one directory per backend
//! with the same file names (a test keeps them in step).

use super::error::StoreError;
use sqlx::migrate::{Migration, Migrator};
use std::collections::BTreeMap;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

fn migrations(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE.migrations.as_ref(),
        Backend::Postgres => POSTGRES.migrations.as_ref(),
    }
}

/// File names of the migrations, identical under `migrations/sqlite` and
/// `migrations/postgres`, as `<version>_<description>.sql`.
#[must_use]
pub fn migration_files(backend_dir: &str) -> Vec<String> {
    let backend = if backend_dir == "postgres" {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    migrations(backend)
        .iter()
        .map(|m| format!("{:04}_{}.sql", m.version, m.description.replace(' ', "_")))
        .collect()
}

pub(crate) fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

/// Compares what the database has applied (`version → (checksum, success)`) with the
/// built-in migrations, for [`super::OpenMode::MustExist`], which may not migrate.
pub(crate) fn check_applied(
    backend: Backend,
    target: &str,
    applied: &BTreeMap<i64, (Vec<u8>, bool)>,
) -> Result<(), StoreError> {
    let known = migrations(backend);
    if let Some(version) = applied
        .keys()
        .find(|v| !known.iter().any(|m| m.version == **v))
    {
        return Err(StoreError::SchemaTooNew {
            target: target.to_owned(),
            version: *version,
        });
    }
    let mut pending = Vec::new();
    for m in known {
        match applied.get(&m.version) {
            Some((checksum, true)) if checksum.as_slice() == m.checksum.as_ref() => {}
            Some((_, true)) => {
                return Err(StoreError::MigrationChanged {
                    target: target.to_owned(),
                    version: m.version,
                });
            }
            // Absent, or a failed (dirty) attempt: the daemon must (re)run it.
            _ => pending.push(m.version),
        }
    }
    if pending.is_empty() {
        Ok(())
    } else {
        Err(StoreError::MigrationsPending {
            target: target.to_owned(),
            pending,
        })
    }
}
