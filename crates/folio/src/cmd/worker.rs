//! `folio worker`: a RunPod serverless worker. Flags only; the protocol is in `folio-worker`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use folio_engine::Engine;
use folio_isolate::Extractor;
use folio_store::RequiredModels;
use folio_worker::fitness;
use folio_worker::{Worker, WorkerConfig, WorkerError};

use super::isolate::ChildEngine;
use super::limits::{parse_duration, LimitArgs, DOCUMENT_TIMEOUT};

/// Arguments of `folio worker`.
///
/// On RunPod the queue comes from the environment (`RUNPOD_WEBHOOK_GET_JOB` and friends). Without
/// it the worker runs one local test job, like the Python SDK: `--test-input`, else
/// `./test_input.json`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Local test job: a JSON file, or the JSON itself (as the SDK's `--test_input`). Runs it
    /// once, prints the result and exits 0 or 1, even when RunPod's variables are set.
    #[arg(long, value_name = "FILE|JSON", alias = "test_input")]
    pub test_input: Option<String>,
    /// Models that must be loadable before any job is taken: ocr, all, or none (born-digital
    /// documents only). A worker that fails this check reports itself unhealthy and exits.
    #[arg(long, default_value = "ocr", env = "FOLIO_WORKER_REQUIRE_MODELS", value_parser = super::required_parser())]
    pub require_models: RequiredModels,
    /// Inference backend for OCR: rten (built in), ort or ort-cuda (builds with those features).
    #[arg(long, default_value = "rten", env = "FOLIO_OCR_BACKEND", value_parser = super::backend_parser())]
    pub ocr_backend: folio_engine::BackendKind,
    /// Jobs run at the same time.
    #[arg(long, default_value_t = 1, env = "FOLIO_WORKER_CONCURRENCY")]
    pub concurrency: usize,
    /// Ask RunPod for a fresh worker after each job (the SDK's `refresh_worker`).
    #[arg(long, env = "FOLIO_WORKER_REFRESH", value_parser = clap::builder::BoolishValueParser::new())]
    pub refresh_worker: bool,
    /// Time between progress updates (pages done) of a running job; 0 sends none.
    #[arg(
        long,
        default_value = "5s",
        value_name = "DURATION",
        env = "FOLIO_WORKER_PROGRESS_SECS",
        value_parser = parse_duration
    )]
    pub progress_interval: Duration,
    /// Time a `file_url` download may take.
    #[arg(long, default_value = "120s", value_name = "DURATION", value_parser = parse_duration)]
    pub download_timeout: Duration,
    /// Let `file_url` reach loopback, private, link-local (cloud metadata) and other non-public
    /// addresses. Off by default, so that a job cannot make the worker fetch from its own
    /// network; turn it on only where every job is trusted (or for tests on 127.0.0.1).
    #[arg(long, env = "FOLIO_WORKER_ALLOW_PRIVATE_URLS", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_private_urls: bool,
    /// Buckets a `file_url` of the form `s3://bucket/key` may name (comma-separated); none by
    /// default, so S3 is off. Credentials, region and endpoint come from the usual AWS_*
    /// variables (docs/scale-out.md).
    #[arg(
        long,
        value_name = "BUCKETS",
        env = "FOLIO_S3_BUCKETS",
        value_delimiter = ','
    )]
    pub s3_buckets: Vec<String>,
    /// The largest document counts base64 or downloaded; `--timeout` (also FOLIO_JOB_TIMEOUT)
    /// bounds one job.
    #[command(flatten)]
    pub llm: super::LlmArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub isolation: super::isolate::IsolateArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.limits.configure_pool();
    let mut cfg = WorkerConfig::from_env();
    cfg.concurrency = args.concurrency.clamp(1, 64);
    cfg.refresh_worker = args.refresh_worker;
    cfg.progress_interval = (!args.progress_interval.is_zero()).then_some(args.progress_interval);
    cfg.download_timeout = args.download_timeout.max(Duration::from_secs(1));
    cfg.allow_private_urls = args.allow_private_urls;
    cfg.objects = folio_api::objects::ObjectStorage::from_env(
        args.s3_buckets
            .iter()
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty())
            .collect(),
    );
    // FOLIO_JOB_TIMEOUT is the RunPod endpoint's setting (docs/runpod.md); --timeout wins.
    let timeout = match (args.limits.timeout, std::env::var("FOLIO_JOB_TIMEOUT")) {
        (Some(t), _) => t,
        (None, Ok(v)) => {
            parse_duration(&v).map_err(|e| anyhow::anyhow!("FOLIO_JOB_TIMEOUT: {e}"))?
        }
        (None, Err(_)) => DOCUMENT_TIMEOUT,
    };
    cfg.limits = args.limits.limits(timeout);
    let engine = Arc::new(args.llm.apply(super::engine(None, args.ocr_backend))?);

    // As the SDK: an explicit test input, or no queue, means one local job. It runs in this
    // process, as `folio extract` does: a one-off run by hand has no server to protect.
    if args.test_input.is_some() || cfg.is_local() {
        return run_local(&engine, &cfg, args.test_input.as_deref());
    }

    // One child per concurrent job; they load the OCR models when they are required.
    let pool = args.isolation.pool(
        cfg.concurrency,
        ChildEngine {
            cache_dir: None,
            ocr_backend: args.ocr_backend,
            llm: &args.llm,
            page_workers: args.limits.page_workers,
            load_ocr: args.require_models != RequiredModels::None,
        },
    )?;
    let pool = match pool {
        Some(config) => Some(Arc::new(
            folio_isolate::Pool::new(config).context("cannot start the extraction processes")?,
        )),
        None => None,
    };
    let extractor = match &pool {
        Some(pool) => Extractor::Isolated(Arc::clone(pool)),
        None => Extractor::InProcess(Arc::clone(&engine)),
    };

    let worker = Worker::with_extractor(cfg, extractor);
    folio_worker::handle_signals(worker.shutdown_handle()).context("cannot listen for SIGTERM")?;
    let required = args.require_models;
    let warm = Arc::clone(&engine);
    let fit = move || {
        fitness::check_models(required)?;
        // Every required set includes the OCR models: load them now, with the chosen backend.
        if required != RequiredModels::None {
            fitness::check_ocr(&warm)?;
        }
        // Once the models are known to load: the children load them again when they start.
        if let Some(pool) = &pool {
            pool.warm()
                .map_err(|e| format!("cannot start the extraction processes: {e}"))?;
        }
        Ok(())
    };
    match worker.run(fit) {
        Ok(summary) => {
            tracing::info!(?summary, "worker exiting");
            Ok(ExitCode::SUCCESS)
        }
        Err(err @ WorkerError::Unfit { .. }) => {
            one_line(&err.to_string());
            Ok(ExitCode::from(1))
        }
        Err(err) => Err(err.into()),
    }
}

/// Runs one test job and prints its result body (`{"output": ...}` or `{"error": ...}`).
fn run_local(
    engine: &Arc<Engine>,
    cfg: &WorkerConfig,
    test_input: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let text = match test_input {
        Some(s) if s.trim_start().starts_with('{') => s.to_string(),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                one_line(&format!("cannot read the test input {path}: {e}"));
                return Ok(ExitCode::from(1));
            }
        },
        None => {
            let path = PathBuf::from("test_input.json");
            match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    one_line(&format!(
                        "no job queue (RUNPOD_WEBHOOK_GET_JOB is unset) and no test input: \
                         cannot read ./test_input.json ({e}); pass --test-input FILE"
                    ));
                    return Ok(ExitCode::from(1));
                }
            }
        }
    };
    let extractor = Extractor::InProcess(Arc::clone(engine));
    let outcome = match folio_worker::run_local(&extractor, cfg, &text) {
        Ok(o) => o,
        Err(reason) => {
            one_line(&reason);
            return Ok(ExitCode::from(1));
        }
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &outcome.result)?;
    writeln!(out)?;
    out.flush()?;
    match outcome.failure {
        None => Ok(ExitCode::SUCCESS),
        Some(failure) => {
            one_line(&format!("test job failed: {}", failure.message));
            Ok(ExitCode::from(1))
        }
    }
}

/// The worker's exits print one line, as `main` does for other errors, but keep exit code 1
/// (the SDK's) rather than `main`'s 2.
fn one_line(message: &str) {
    use std::io::Write;
    // An unwritable stderr must not turn a clean exit into a panic.
    let _ = writeln!(std::io::stderr(), "error: {}", message.replace('\n', " "));
}
