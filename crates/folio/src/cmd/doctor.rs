//! `folio doctor`: what is wrong with the model store, and the one command that fixes it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use folio_store::ModelId;

/// Arguments of `folio doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The cache root (else FOLIO_VOLUME, FOLIO_CACHE_DIR, $XDG_CACHE_HOME/folio, ~/.cache/folio).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Print JSON (the same facts, for scripts and readiness probes).
    #[arg(long)]
    json: bool,
}

/// Exit status: 0 when every model can be served, 1 when not.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Written, not printed: a closed pipe or a full disk is an error to report, not a panic.
    let mut out = std::io::stdout().lock();
    let store = super::models::open_store_read_only(args.cache_dir);
    let health = store.health(&ModelId::ALL);
    let cpu = folio_vision::cpu_model();
    let unit = folio_vision::vector_unit();
    let rec = folio_vision::recognizer_precision().name();
    if args.json {
        let mut value = serde_json::to_value(&health)?;
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "cpu".into(),
                serde_json::json!({ "model": cpu, "kernels": unit, "recognizer": rec }),
            );
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        let why = health.decisions.join("; ");
        if health.ok {
            writeln!(
                out,
                "ok: all {} models are installed in {} ({why})",
                health.models.len(),
                health.root.display()
            )?;
            if !health.writable {
                writeln!(
                    out,
                    "note: the cache is read-only, which is fine while every model is installed"
                )?;
            }
        } else {
            // The first problem is the one to act on; the rest follow from it.
            for p in &health.problems {
                writeln!(out, "problem: {}", p.message)?;
                if let Some(fix) = &p.fix {
                    writeln!(out, "fix:     {fix}")?;
                }
            }
            writeln!(out, "cache:   {} ({why})", health.root.display())?;
            let ocr: Vec<&str> = ModelId::OCR.iter().map(|m| m.name()).collect();
            writeln!(
                out,
                "note:    born-digital PDFs need no models; OCR needs {}",
                ocr.join(", ")
            )?;
        }
        writeln!(
            out,
            "cpu:     {cpu} (model kernels: {unit}; text recogniser: {rec})"
        )?;
        for c in &health.conflicts {
            writeln!(
                out,
                "note:    {} holds what stood in the cache's way; nothing was deleted, remove it when you no longer need it",
                c.display()
            )?;
        }
    }
    out.flush()?;
    Ok(if health.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
