//! `folio serve`: the HTTP service. Flags and glue only; the service is `folio-server`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use folio_engine::BackendKind;
use folio_server::{
    ApiKeys, JobsDatabase, ObjectStorage, PostgresOptions, Readiness, RequiredModels, Server,
    ServerConfig, WebhookPolicy,
};
use folio_store::StoreConfig;

use super::isolate::ChildEngine;
use super::limits::{parse_duration, LimitArgs};

/// Arguments of `folio serve`.
///
/// API keys come from FOLIO_API_KEY (comma-separated) and/or --api-key-file; without any, the
/// server only binds to a loopback address unless --allow-unauthenticated is given.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the address is printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8000", env = "FOLIO_ADDR")]
    pub addr: SocketAddr,
    /// File of API keys, one per line (# comments), in addition to FOLIO_API_KEY.
    #[arg(long, value_name = "FILE", env = "FOLIO_API_KEY_FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Serve without an API key on a non-loopback address.
    #[arg(long)]
    pub allow_unauthenticated: bool,
    /// Where jobs and results are kept (default: FOLIO_DATA_DIR, $XDG_STATE_HOME/folio-server,
    /// ~/.local/state/folio-server).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep jobs in this Postgres database instead of SQLite under --data-dir, so several
    /// replicas share one queue: postgres://user:password@host:port/db (see docs/scale-out.md).
    #[arg(
        long,
        value_name = "URL",
        env = "FOLIO_JOBS_DB",
        hide_env_values = true
    )]
    pub jobs_db: Option<String>,
    /// Postgres connections kept by this replica.
    #[arg(long, default_value_t = 8, env = "FOLIO_JOBS_DB_POOL")]
    pub jobs_db_pool: usize,
    /// Longest one job-database statement may run (also the wait for a connection).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub jobs_db_timeout: Duration,
    /// How long a running job's lease lasts without a heartbeat: how soon another replica
    /// runs the job of one that died.
    #[arg(long, default_value = "30s", value_parser = parse_duration, env = "FOLIO_JOB_LEASE")]
    pub job_lease: Duration,
    /// Buckets that s3:// job sources and outputs may name (comma-separated); none by
    /// default. Credentials, region and endpoint come from the AWS_* environment.
    #[arg(
        long,
        value_name = "BUCKETS",
        env = "FOLIO_S3_BUCKETS",
        value_delimiter = ','
    )]
    pub s3_buckets: Vec<String>,
    /// The model cache root /ready checks (else as `folio doctor` resolves it).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Inference backend for OCR: rten (built in), ort or ort-cuda (builds with those features).
    #[arg(long, default_value = "rten", env = "FOLIO_OCR_BACKEND", value_parser = super::backend_parser())]
    pub ocr_backend: BackendKind,
    /// Models /ready requires: none (born-digital PDFs need none), ocr or all. With ocr or
    /// all, the OCR models are loaded before the server listens.
    #[arg(long, default_value = "none", env = "FOLIO_SERVE_REQUIRE_MODELS", value_parser = super::required_parser())]
    pub require_models: RequiredModels,
    /// Extractions at once, sync requests and jobs together (default: one per core).
    #[arg(long, env = "FOLIO_MAX_CONCURRENT")]
    pub max_concurrent: Option<usize>,
    /// Sync requests that may wait for a slot; beyond them, 429 with Retry-After.
    #[arg(long, default_value_t = 64, env = "FOLIO_MAX_QUEUE")]
    pub max_queue: usize,
    /// Async jobs that may wait to run; beyond them, 429.
    #[arg(long, default_value_t = 1000)]
    pub max_queued_jobs: usize,
    /// Async jobs run at once (default: half the extraction slots, at least 1).
    #[arg(long)]
    pub job_workers: Option<usize>,
    /// Time limit of one async job.
    #[arg(long, default_value = "15m", value_name = "DURATION", value_parser = parse_duration, env = "FOLIO_JOB_TIMEOUT")]
    pub job_timeout: Duration,
    /// How long finished jobs and their results are kept (e.g. 24h, 7d).
    #[arg(long, default_value = "24h", value_name = "DURATION", value_parser = parse_duration)]
    pub job_ttl: Duration,
    /// Runs of a job that a crash interrupted, or whose extraction process died on its
    /// document, before it is marked failed.
    #[arg(long, default_value_t = 3)]
    pub job_max_attempts: u32,
    /// Allowed webhook targets: public (any public address), none, or a comma-separated list
    /// of hosts (`*.example.org` for subdomains).
    #[arg(long, default_value = "public", env = "FOLIO_WEBHOOK_HOSTS")]
    pub webhook_hosts: WebhookPolicy,
    /// How long in-flight requests may take to finish after SIGTERM.
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    #[command(flatten)]
    pub llm: super::LlmArgs,
    /// The largest document is also the request body limit.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Time a client has to send a request's head; a kept-alive connection idle that long
    /// between requests is closed too.
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// Open connections served at once (lowered to fit the descriptor limit); beyond them a
    /// connection is answered 503 and closed.
    #[arg(long, default_value_t = 1024, env = "FOLIO_MAX_CONNECTIONS")]
    pub max_connections: usize,
    #[command(flatten)]
    pub isolation: super::isolate::IsolateArgs,
}

/// The time limit of one POST /extract, queueing included, when `--timeout` is not given.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

fn api_keys(file: Option<&PathBuf>) -> anyhow::Result<ApiKeys> {
    let mut keys = std::env::var("FOLIO_API_KEY")
        .map(|v| ApiKeys::split_list(&v))
        .unwrap_or_default();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the API key file {}", path.display()))?;
        let from_file = ApiKeys::split_file(&text);
        anyhow::ensure!(
            !from_file.is_empty(),
            "the API key file {} holds no key",
            path.display()
        );
        keys.extend(from_file);
    }
    Ok(ApiKeys::new(keys))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.limits.configure_pool();
    let keys = api_keys(args.api_key_file.as_ref())?;
    folio_server::check_bind(args.addr, &keys, args.allow_unauthenticated)?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| folio_server::default_data_dir(&|k| std::env::var_os(k)));
    let mut config = ServerConfig::new(data_dir);
    config.api_keys = keys;
    if let Some(url) = args.jobs_db.clone().filter(|u| !u.trim().is_empty()) {
        anyhow::ensure!(
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "--jobs-db must be a postgres:// or postgresql:// address"
        );
        config.jobs_db = Some(JobsDatabase(url));
    }
    config.postgres = PostgresOptions {
        pool_size: args.jobs_db_pool.clamp(2, 1024),
        statement_timeout: args.jobs_db_timeout.max(Duration::from_secs(1)),
    };
    config.job_lease = args.job_lease.max(Duration::from_secs(1));
    let buckets = args
        .s3_buckets
        .iter()
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty())
        .collect();
    config.objects = ObjectStorage::from_env(buckets);
    // A sync request's extraction is bounded by what is left of its own time limit.
    config.limits = args.limits.limits(args.job_timeout);
    config.request_timeout = args
        .limits
        .timeout
        .unwrap_or(REQUEST_TIMEOUT)
        .max(Duration::from_secs(1));
    if let Some(n) = args.max_concurrent {
        config.max_concurrent = n.clamp(1, 1024);
        config.job_workers = config.max_concurrent.div_ceil(2);
    }
    config.max_queue = args.max_queue;
    config.max_queued_jobs = args.max_queued_jobs.max(1);
    if let Some(n) = args.job_workers {
        config.job_workers = n.clamp(1, 1024);
    }
    config.job_ttl = args.job_ttl;
    config.job_max_attempts = args.job_max_attempts.max(1);
    config.webhooks = args.webhook_hosts;
    config.shutdown_grace = args.shutdown_grace;
    config.header_timeout = args.header_timeout.max(Duration::from_secs(1));
    config.max_connections = args.max_connections.max(1);
    let engine = Arc::new(
        args.llm
            .apply(super::engine(args.cache_dir.clone(), args.ocr_backend))?,
    );
    // One warm child per extraction slot; they load the OCR models when /ready requires them.
    config.isolation = args.isolation.pool(
        config.max_concurrent,
        ChildEngine {
            cache_dir: args.cache_dir.clone(),
            ocr_backend: args.ocr_backend,
            llm: &args.llm,
            page_workers: args.limits.page_workers,
            load_ocr: args.require_models != RequiredModels::None,
        },
    )?;
    if args.require_models != RequiredModels::None && config.isolation.is_none() {
        // Warm: the first scanned page should not pay for loading the models.
        if let Err(e) = engine.load_ocr() {
            tracing::warn!(error = %e, "OCR models not loaded; /ready will say why");
        }
    }
    let mut store = StoreConfig::from_env();
    store.cache_dir = args.cache_dir;
    config.readiness = Readiness {
        store,
        required: args.require_models,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("folio-serve")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let database = match &config.jobs_db {
            Some(_) => "(--jobs-db)".to_string(),
            None => config.database_path().display().to_string(),
        };
        let server = Server::new(engine, config)
            .with_context(|| format!("cannot open the job store {database}"))?;
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        announce(local);
        server
            .serve(listener, folio_server::shutdown_signal())
            .await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// One line on stderr (the default log level hides info), so scripts and tests learn the
/// port when it was 0.
fn announce(addr: SocketAddr) {
    use std::io::Write;
    // An unwritable stderr must not stop the server.
    let _ = writeln!(std::io::stderr(), "folio serve: listening on http://{addr}");
}
