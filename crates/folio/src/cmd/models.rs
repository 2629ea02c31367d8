//! `folio models`: not built yet (see the open issues).

use std::process::ExitCode;

/// Arguments of `folio models`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`folio models` is not available in this build yet")
}
