//! `folio worker`: not built yet (see the open issues).

use std::process::ExitCode;

/// Arguments of `folio worker`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`folio worker` is not available in this build yet")
}
