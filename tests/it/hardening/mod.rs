//! Issue 16 (hardening): each finding of the outside review, with the test that failed on
//! the code as it was. The item number is in a comment above each test.

mod broken;
mod cli;
mod client;
mod config;
mod fatal;
mod sources;
mod state;

use ptv_sync::config::Config;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One organisation reading the folder `source`, with a password file `password`.
pub fn config_text(dir: &Path, extra_org: &str, source: &str) -> String {
    format!(
        r#"
[state]
dir = "{state}"

[[organization]]
name = "espoo"
main_organization_id = "7d8b8c52-2f3a-4b0e-9a31-6c1f3e2d4a10"
source_id_prefix = "espoo"
{extra_org}
[organization.ptv]
username = "api@espoo.fi"
password_file = "{pw}"
[organization.source]
{source}
"#,
        state = dir.join("state").display(),
        pw = dir.join("password").display(),
    )
}

pub fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, String> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_str_with_env(text, Path::new("/etc/ptv-sync/config.toml"), &env)
        .map_err(|e| e.to_string())
}

/// Log lines written while `f` runs on this thread.
pub fn warnings_of<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish();
    // Another test may have registered the callsite as uninteresting meanwhile.
    tracing::callsite::rebuild_interest_cache();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

/// One valid service document as YAML.
pub const SERVICE_YAML: &str = "kind: service\nid: permit\n";
