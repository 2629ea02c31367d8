//! `folio extract-child` (hidden): the process `folio serve` and `folio worker` extract each
//! document in (see `folio-isolate`). Jobs arrive on standard input, answers leave on
//! standard output; logs go to standard error, which the parent shares.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use folio_engine::BackendKind;

/// Arguments of `folio extract-child`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model cache root, as the parent was given it.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Inference backend for OCR.
    #[arg(long, default_value = "rten", value_parser = super::parse_backend)]
    pub ocr_backend: BackendKind,
    /// Address-space cap of this process, in MiB (0: none).
    #[arg(long, default_value_t = 0, value_name = "MIB")]
    pub memory_limit_mb: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.memory_limit_mb > 0 {
        folio_isolate::limit_own_memory(args.memory_limit_mb.saturating_mul(1 << 20))
            .context("cannot cap the extraction process's memory")?;
    }
    let engine = super::engine(args.cache_dir, args.ocr_backend);
    folio_isolate::serve_child(&engine).context("extraction process")?;
    Ok(ExitCode::SUCCESS)
}

/// The pool configuration that runs documents in `folio extract-child` processes of this
/// very binary.
pub(crate) fn pool_config(
    cache_dir: Option<&PathBuf>,
    backend: BackendKind,
    memory_limit_mb: u64,
    size: usize,
    max_documents: u32,
    max_rss_mb: u64,
) -> anyhow::Result<folio_isolate::PoolConfig> {
    let program = std::env::current_exe().context("cannot find the folio binary to run")?;
    let mut args: Vec<std::ffi::OsString> = vec![
        "extract-child".into(),
        "--ocr-backend".into(),
        backend.name().into(),
        "--memory-limit-mb".into(),
        memory_limit_mb.to_string().into(),
    ];
    if let Some(dir) = cache_dir {
        args.push("--cache-dir".into());
        args.push(dir.into());
    }
    Ok(folio_isolate::PoolConfig {
        program,
        args,
        size: size.max(1),
        max_documents: max_documents.max(1),
        max_rss_bytes: max_rss_mb.saturating_mul(1 << 20),
    })
}
