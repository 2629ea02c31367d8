//! Log set-up: human-readable or JSON lines, always on stderr so stdout stays the output.

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

/// The flags logging was set up with, for the extraction children to log the same way.
static FLAGS: OnceLock<(u8, bool)> = OnceLock::new();

/// `-v`s and `--log-json` as this process was given them.
pub fn flags() -> Vec<String> {
    let (verbose, json) = FLAGS.get().copied().unwrap_or_default();
    let mut out = Vec::new();
    if verbose > 0 {
        out.push(format!("-{}", "v".repeat(usize::from(verbose.min(2)))));
    }
    if json {
        out.push("--log-json".to_string());
    }
    out
}

pub fn init(verbose: u8, json: bool) {
    let _ = FLAGS.set((verbose, json));
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: keep the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.without_time().with_target(false).try_init()
    };
}
