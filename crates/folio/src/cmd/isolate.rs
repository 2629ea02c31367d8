//! Extraction in child processes for `serve` and `worker`: the flags they share, the pool they
//! build from them, and the hidden `__extract-child` subcommand the children run.

use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use folio_engine::BackendKind;
use folio_isolate::PoolConfig;

use super::LlmArgs;

/// The hidden subcommand a child runs.
pub const CHILD_COMMAND: &str = "__extract-child";

/// How long past a document's time limit its child may take to answer before it is killed.
/// The engine stops itself at the limit (within a tenth of a second) and answers; this leaves
/// room to render a large answer, and stays under the 5 s the server waits past a sync
/// request's time limit.
const DEADLINE_GRACE: Duration = Duration::from_secs(3);

/// Whether documents are extracted in child processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Isolate {
    /// Each document in a supervised child process (memory cap, deadline, recycling).
    On,
    /// In the server's own process (small deployments, tests).
    Off,
}

/// Flags of the extraction children, shared by `serve` and `worker`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Isolation")]
pub struct IsolateArgs {
    /// Extract each document in a supervised child process (on), so that a document that
    /// exhausts memory, crashes or runs past its deadline costs one request a 422
    /// document_too_costly, not the service; or in this process (off).
    #[arg(long, value_enum, default_value_t = Isolate::On, env = "FOLIO_ISOLATE")]
    pub isolate: Isolate,
    /// Address space each child may use, in MiB (RLIMIT_AS; 0: no cap of its own). It covers
    /// the program, its threads and the OCR models as well as the document.
    #[arg(
        long,
        default_value_t = 4096,
        value_name = "MIB",
        env = "FOLIO_CHILD_MEMORY_MB"
    )]
    pub child_memory_mb: u64,
    /// A child is replaced after this many documents.
    #[arg(
        long,
        default_value_t = 200,
        value_name = "N",
        env = "FOLIO_CHILD_MAX_DOCUMENTS"
    )]
    pub child_max_documents: u32,
    /// A child whose resident memory is above this after a document is replaced, in MiB
    /// (0: never for its size).
    #[arg(
        long,
        default_value_t = 2048,
        value_name = "MIB",
        env = "FOLIO_CHILD_MAX_RSS_MB"
    )]
    pub child_max_rss_mb: u64,
}

/// What a child's engine is built with: the parent's own settings.
pub struct ChildEngine<'a> {
    pub cache_dir: Option<PathBuf>,
    pub ocr_backend: BackendKind,
    pub llm: &'a LlmArgs,
    pub page_workers: Option<NonZeroUsize>,
    /// Load the OCR models when the child starts, not at its first scanned page.
    pub load_ocr: bool,
}

impl IsolateArgs {
    /// The pool of `size` children, or `None` with `--isolate off`.
    pub fn pool(&self, size: usize, engine: ChildEngine<'_>) -> anyhow::Result<Option<PoolConfig>> {
        if self.isolate == Isolate::Off {
            return Ok(None);
        }
        // The running binary itself, even if its file was replaced since (an upgrade in place).
        let program = if std::path::Path::new("/proc/self/exe").exists() {
            PathBuf::from("/proc/self/exe")
        } else {
            std::env::current_exe().context("cannot find the folio binary to run children")?
        };
        let mut args: Vec<OsString> = vec![CHILD_COMMAND.into()];
        args.extend(crate::logging::flags().into_iter().map(OsString::from));
        args.push("--memory-mb".into());
        args.push(self.child_memory_mb.to_string().into());
        args.push("--ocr-backend".into());
        args.push(engine.ocr_backend.name().into());
        if let Some(dir) = engine.cache_dir {
            args.push("--cache-dir".into());
            args.push(dir.into_os_string());
        }
        if let Some(n) = engine.page_workers {
            args.push("--page-workers".into());
            args.push(n.to_string().into());
        }
        if engine.load_ocr {
            args.push("--load-ocr".into());
        }
        if let Some(url) = &engine.llm.llm_url {
            args.push("--llm-url".into());
            args.push(url.into());
        }
        args.push("--llm-model".into());
        args.push((&engine.llm.llm_model).into());
        args.push("--llm-timeout".into());
        args.push(format!("{}ms", engine.llm.llm_timeout.as_millis()).into());
        let mib = |m: u64| (m > 0).then(|| m.saturating_mul(1024 * 1024));
        Ok(Some(PoolConfig {
            program,
            args,
            size: size.max(1),
            max_documents: self.child_max_documents.max(1),
            max_rss_bytes: mib(self.child_max_rss_mb),
            memory_cap_bytes: mib(self.child_memory_mb),
            deadline_grace: DEADLINE_GRACE,
        }))
    }
}

/// Arguments of the hidden `folio __extract-child`: the engine settings of its parent.
#[derive(Debug, clap::Args)]
pub struct ChildArgs {
    /// Address-space cap in MiB; 0: none of its own.
    #[arg(long, default_value_t = 0)]
    pub memory_mb: u64,
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    #[arg(long, default_value = "rten", value_parser = super::backend_parser())]
    pub ocr_backend: BackendKind,
    #[arg(long)]
    pub page_workers: Option<NonZeroUsize>,
    #[arg(long)]
    pub load_ocr: bool,
    #[command(flatten)]
    pub llm: LlmArgs,
}

/// Runs as an extraction child: documents on standard input, answers on standard output,
/// until the parent closes the pipe.
pub fn run_child(args: ChildArgs) -> anyhow::Result<ExitCode> {
    // First, before anything large is mapped.
    if args.memory_mb > 0 {
        folio_isolate::limit_own_memory(args.memory_mb.saturating_mul(1024 * 1024))?;
    }
    if let Err(e) =
        folio_engine::PagePool::configure_global(args.page_workers.map(NonZeroUsize::get), None)
    {
        tracing::warn!("--page-workers not applied: {e}");
    }
    let engine = args
        .llm
        .apply(super::engine(args.cache_dir, args.ocr_backend))?;
    if args.load_ocr {
        // Its parent said so in its readiness; a failure here shows at the first scanned page.
        if let Err(e) = engine.load_ocr() {
            tracing::warn!(error = %e, "OCR models not loaded in the extraction process");
        }
    }
    folio_isolate::serve_child(&engine).context("lost the parent process")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn the_child_command_line_parses_back_with_the_parents_settings() {
        let llm = LlmArgs {
            llm_url: Some("http://127.0.0.1:9/v1".to_string()),
            llm_model: "small".to_string(),
            llm_timeout: Duration::from_secs(90),
        };
        let flags = IsolateArgs {
            isolate: Isolate::On,
            child_memory_mb: 512,
            child_max_documents: 3,
            child_max_rss_mb: 0,
        };
        let engine = || ChildEngine {
            cache_dir: Some(PathBuf::from("/cache dir")),
            ocr_backend: BackendKind::Ort,
            llm: &llm,
            page_workers: NonZeroUsize::new(3),
            load_ocr: true,
        };
        let pool = flags.pool(2, engine()).unwrap().unwrap();
        assert_eq!(
            (pool.size, pool.max_documents, pool.max_rss_bytes),
            (2, 3, None)
        );
        assert_eq!(pool.memory_cap_bytes, Some(512 << 20));
        let argv = std::iter::once(OsString::from("folio")).chain(pool.args);
        let cli = crate::Cli::try_parse_from(argv).unwrap();
        let crate::Command::ExtractChild(child) = cli.command else {
            panic!("not the child subcommand: {:?}", cli.command);
        };
        assert_eq!(child.memory_mb, 512);
        assert_eq!(child.cache_dir, Some(PathBuf::from("/cache dir")));
        assert_eq!(child.ocr_backend, BackendKind::Ort);
        assert_eq!(child.page_workers, NonZeroUsize::new(3));
        assert!(child.load_ocr);
        assert_eq!(child.llm.llm_url, llm.llm_url);
        assert_eq!(child.llm.llm_model, "small");
        assert_eq!(child.llm.llm_timeout, Duration::from_secs(90));

        let off = IsolateArgs {
            isolate: Isolate::Off,
            ..flags
        };
        assert!(off.pool(2, engine()).unwrap().is_none());
    }
}
