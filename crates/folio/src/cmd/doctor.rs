//! `folio doctor`: what is wrong with the model store, and the one command that fixes it.

use std::path::PathBuf;
use std::process::ExitCode;

use folio_store::ModelId;

/// Arguments of `folio doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The cache root (else FOLIO_CACHE_DIR, $XDG_CACHE_HOME/folio, ~/.cache/folio).
    #[arg(long, env = "FOLIO_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[allow(clippy::print_stdout)]
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = super::models::open_store(args.cache_dir);
    let health = store.health(&ModelId::ALL);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&health)?);
    } else {
        println!(
            "model cache: {} ({})",
            health.root.display(),
            health.decisions.join("; ")
        );
        if health.ok {
            println!("ok: all {} models installed", health.models.len());
        }
        for p in &health.problems {
            println!("problem: {}", p.message);
            if let Some(fix) = &p.fix {
                println!("  fix: {fix}");
            }
        }
        println!("born-digital PDFs need no models; OCR needs ocr-det, ocr-rec and ocr-cls");
    }
    Ok(if health.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
