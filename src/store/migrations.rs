//! Migrations built into the binary, one directory per backend with the same file names.
//!
//! They are embedded with `include_str!` rather than `sqlx::migrate!` (which needs sqlx's
//! `macros` feature and its compile-time cost); the checksums are computed exactly as
//! `sqlx::migrate!` and `sqlx migrate` compute them, so the `_sqlx_migrations` table is
//! interchangeable with the sqlx CLI's.

use super::error::StoreError;
use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Declares the migration files, in order. Add new files to both directories and here.
macro_rules! embedded {
    ($($version:literal, $file:literal;)+) => {
        /// File names of the migrations, identical under `migrations/sqlite` and
        /// `migrations/postgres`.
        pub const MIGRATION_FILES: &[&str] = &[$($file),+];

        const SQLITE: &[(i64, &str, &str)] =
            &[$(($version, $file, include_str!(concat!("../../migrations/sqlite/", $file)))),+];
        const POSTGRES: &[(i64, &str, &str)] =
            &[$(($version, $file, include_str!(concat!("../../migrations/postgres/", $file)))),+];
    };
}

embedded! {
    1, "0001_initial.sql";
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug)]
struct Embedded(Backend);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { Ok(migrations(self.0)) })
    }
}

fn migrations(backend: Backend) -> Vec<Migration> {
    let files = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    files
        .iter()
        .map(|(version, file, sql)| {
            let description = file
                .trim_end_matches(".sql")
                .split_once('_')
                .map_or(*file, |(_, d)| d)
                .replace('_', " ");
            Migration::new(
                *version,
                Cow::Owned(description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect()
}

pub(crate) async fn migrator(backend: Backend) -> Result<Migrator, StoreError> {
    Migrator::new(Embedded(backend))
        .await
        .map_err(|e| StoreError::Invalid(format!("built-in migrations: {e}")))
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
    for m in &known {
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
