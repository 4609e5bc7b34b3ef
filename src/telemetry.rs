//! Logging: journald under systemd (`JOURNAL_STREAM` set), otherwise human-readable or
//! JSON lines on stderr. `RUST_LOG` (or `PTV_SYNC_LOG`) sets the filter. Colour only on a
//! terminal and never with `NO_COLOR` set: escape codes in files and pipes are noise.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// journald when started by systemd, human otherwise.
    #[default]
    Auto,
    Human,
    Json,
}

/// Installs the global subscriber once; later calls are ignored (tests, demo).
pub fn init(format: LogFormat, default_level: &str) {
    let filter = EnvFilter::try_from_env("PTV_SYNC_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(default_level));
    let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some();
    let colour = colour_wanted(
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
    );
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Auto if under_systemd => match tracing_journald::layer() {
            Ok(j) => registry.with(j).try_init(),
            Err(_) => registry
                .with(fmt::layer().with_ansi(colour).with_writer(std::io::stderr))
                .try_init(),
        },
        LogFormat::Auto | LogFormat::Human => registry
            .with(
                fmt::layer()
                    .with_target(false)
                    .with_ansi(colour)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    let _ = result;
}

/// Colour codes only on a terminal, and not when the user set `NO_COLOR`.
#[must_use]
pub fn colour_wanted(stderr_is_terminal: bool, no_color: bool) -> bool {
    stderr_is_terminal && !no_color
}
