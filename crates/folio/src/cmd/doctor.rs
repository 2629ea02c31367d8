//! `folio doctor`: not built yet (see the open issues).

use std::process::ExitCode;

/// Arguments of `folio doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`folio doctor` is not available in this build yet")
}
