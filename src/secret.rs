//! Where a secret (password, v12 API key) comes from, re-read on every use so that a
//! rotated password needs no restart. The value is a `SecretString`: it never reaches
//! `Debug`, logs, errors or the database.

use secrecy::SecretString;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "cannot read {what} from file {path}: {source}; check the path and that the service user may read it"
    )]
    File {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{what}: systemd credential '{name}' not found (CREDENTIALS_DIRECTORY is {dir}); add `LoadCredential={name}:/path/to/secret` to the unit"
    )]
    Credential {
        what: String,
        name: String,
        dir: String,
    },
    #[error("{what}: environment variable {var} is not set; export it or use a *_file setting")]
    Env { what: String, var: String },
    #[error("{what} is empty (from {origin}); put the secret there")]
    Empty { what: String, origin: String },
}

/// A secret's origin. `Debug` shows where it comes from, never the value.
#[derive(Clone)]
pub enum SecretSource {
    /// A file holding the secret (trailing newline ignored).
    File(PathBuf),
    /// `$CREDENTIALS_DIRECTORY/<name>`, as systemd's `LoadCredential=` provides.
    Credential(String),
    /// An environment variable.
    Env(String),
    /// Given inline in the configuration (accepted with a warning at load).
    Inline(SecretString),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(p) => write!(f, "file {}", p.display()),
            SecretSource::Credential(n) => write!(f, "systemd credential {n}"),
            SecretSource::Env(v) => write!(f, "environment variable {v}"),
            SecretSource::Inline(_) => f.write_str("inline value (redacted)"),
        }
    }
}

impl SecretSource {
    /// Reads the secret now. `what` names it in errors ("password of organisation espoo").
    pub fn read(&self, what: &str) -> Result<SecretString, SecretError> {
        use secrecy::ExposeSecret;
        let value = match self {
            SecretSource::File(path) => read_file(what, path)?,
            SecretSource::Credential(name) => {
                let dir = std::env::var("CREDENTIALS_DIRECTORY").unwrap_or_default();
                if dir.is_empty() {
                    return Err(SecretError::Credential {
                        what: what.into(),
                        name: name.clone(),
                        dir: "unset".into(),
                    });
                }
                let path = PathBuf::from(&dir).join(name);
                if !path.exists() {
                    return Err(SecretError::Credential {
                        what: what.into(),
                        name: name.clone(),
                        dir,
                    });
                }
                read_file(what, &path)?
            }
            SecretSource::Env(var) => std::env::var(var).map_err(|_| SecretError::Env {
                what: what.into(),
                var: var.clone(),
            })?,
            SecretSource::Inline(s) => s.expose_secret().to_owned(),
        };
        let trimmed = value.trim_end_matches(['\n', '\r']);
        if trimmed.is_empty() {
            return Err(SecretError::Empty {
                what: what.into(),
                origin: format!("{self:?}"),
            });
        }
        Ok(SecretString::from(trimmed.to_owned()))
    }
}

/// A secret as it may appear in text: itself, and JSON-escaped if that differs.
#[must_use]
pub fn escaped_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"');
    if json != secret {
        forms.push(json.to_owned());
        // Escaped twice: a JSON body quoted inside another JSON string.
        let twice = serde_json::to_string(json).unwrap_or_default();
        forms.push(twice.trim_matches('"').to_owned());
    }
    // Longest first, so that a form containing another is replaced whole.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms
}

/// What [`SecretSource::check`] found short of a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckNote {
    /// Readable and private enough.
    Fine,
    /// Usable, but worth a warning (e.g. a file others may read).
    Warning(String),
}

impl SecretSource {
    /// For `validate` and dry runs: reads the secret as the daemon will, and looks at a
    /// file's permissions. A credential or variable that only the daemon's environment
    /// has (this shell has no `CREDENTIALS_DIRECTORY` or no such variable) is a warning,
    /// since the command may well run outside it; a file must be there.
    pub fn check(&self, what: &str) -> Result<CheckNote, SecretError> {
        match self.read(what) {
            Ok(_) => {}
            Err(SecretError::Env { var, .. }) => {
                return Ok(CheckNote::Warning(format!(
                    "{what}: environment variable {var} is not set here; the daemon's environment must set it"
                )));
            }
            Err(SecretError::Credential { name, dir, .. }) if dir == "unset" => {
                return Ok(CheckNote::Warning(format!(
                    "{what}: systemd credential '{name}' cannot be checked outside the service (no CREDENTIALS_DIRECTORY)"
                )));
            }
            Err(e) => return Err(e),
        }
        let path = match self {
            SecretSource::File(p) => p.clone(),
            SecretSource::Credential(name) => {
                PathBuf::from(std::env::var("CREDENTIALS_DIRECTORY").unwrap_or_default()).join(name)
            }
            SecretSource::Env(_) | SecretSource::Inline(_) => return Ok(CheckNote::Fine),
        };
        Ok(permission_note(what, &path))
    }
}

fn permission_note(what: &str, path: &std::path::Path) -> CheckNote {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o044 != 0 => CheckNote::Warning(format!(
            "{what}: file {} is readable by {} (mode {:04o}); chmod 600 it, owned by the service user",
            path.display(),
            if m.permissions().mode() & 0o004 != 0 {
                "everyone"
            } else {
                "its group"
            },
            m.permissions().mode() & 0o7777
        )),
        _ => CheckNote::Fine,
    }
}

fn read_file(what: &str, path: &std::path::Path) -> Result<String, SecretError> {
    std::fs::read_to_string(path).map_err(|source| SecretError::File {
        what: what.into(),
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn file_secret_is_reread_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "first\n").unwrap();
        let src = SecretSource::File(path.clone());
        assert_eq!(src.read("pw").unwrap().expose_secret(), "first");
        std::fs::write(&path, "second\n").unwrap();
        assert_eq!(src.read("pw").unwrap().expose_secret(), "second");
    }

    #[test]
    fn debug_never_shows_inline_value() {
        let src = SecretSource::Inline(SecretString::from("hunter2".to_owned()));
        assert!(!format!("{src:?}").contains("hunter2"));
    }

    #[test]
    fn missing_file_error_names_path_and_fix() {
        let err = SecretSource::File("/nonexistent/pw".into())
            .read("password of organisation x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/pw") && err.contains("password of organisation x"));
    }
}
