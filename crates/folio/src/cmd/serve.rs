//! `folio serve`: not built yet (see the open issues).

use std::process::ExitCode;

/// Arguments of `folio serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`folio serve` is not available in this build yet")
}
