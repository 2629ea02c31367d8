//! Start-up (job store recovery), serving, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use folio_engine::Engine;
use tokio::net::TcpListener;

use crate::app::{self, Route};
use crate::config::ServerConfig;
use crate::jobs::{
    self, JobStore, JobStoreError, Jobs, PostgresStore, Recovery, SqliteStore, Stale,
};
use crate::limiter::Limiter;
use crate::metrics::Metrics;
use crate::state::{now_ms, AppState};

/// Why the service cannot start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The job store cannot be opened or recovered.
    #[error(transparent)]
    JobStore(#[from] JobStoreError),
    /// No API key and an address other machines can reach.
    #[error(
        "refusing to serve on {0} without an API key: set FOLIO_API_KEY (or --api-key-file), \
         bind to 127.0.0.1, or pass --allow-unauthenticated"
    )]
    Unauthenticated(SocketAddr),
    /// The listener failed.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
    /// The extraction processes cannot be started.
    #[error("cannot start the extraction processes")]
    Isolation(#[source] folio_isolate::Error),
}

/// The HTTP service, ready to serve.
pub struct Server {
    state: Arc<AppState>,
    router: Router,
    routes: Vec<Route>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Opens the job store: SQLite under `config.data_dir`, recovered at once (jobs a crash
    /// left `running` are queued again, or failed after `job_max_attempts`), or the Postgres
    /// pool of `config.jobs_db` (migrated and swept when [`Server::serve`] starts: other
    /// replicas may be running jobs). The engine comes from the caller, who decides how it is
    /// built (models loaded from the store, or none). With [`ServerConfig::isolation`], the
    /// extraction processes are started here, so that a server that cannot start them says so
    /// before it listens.
    pub fn new(engine: Arc<Engine>, config: ServerConfig) -> Result<Server, ServerError> {
        let extractor = match &config.isolation {
            Some(pool) => {
                let pool =
                    folio_isolate::Pool::new(pool.clone()).map_err(ServerError::Isolation)?;
                pool.warm().map_err(ServerError::Isolation)?;
                folio_isolate::Extractor::Isolated(Arc::new(pool))
            }
            None => folio_isolate::Extractor::InProcess(Arc::clone(&engine)),
        };
        let (store, recovery): (Arc<dyn JobStore>, _) = match &config.jobs_db {
            Some(url) => (
                Arc::new(PostgresStore::new(&url.0, &config.postgres)?),
                None,
            ),
            None => {
                let store = SqliteStore::open(&config.database_path())?;
                // The only process using the file: whatever it left running was interrupted.
                let recovery = store.recover_now(Stale::All, config.job_max_attempts, now_ms())?;
                (Arc::new(store), Some(recovery))
            }
        };
        tracing::info!(store = %store.describe(), "job store open");
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let state = Arc::new(AppState {
            engine,
            extractor,
            limiter: Limiter::new(config.max_concurrent, config.max_queue),
            metrics: Metrics::default(),
            jobs: Jobs::new(store),
            config,
            shutdown,
        });
        if let Some(recovery) = recovery {
            log_recovery(&state, &recovery);
        }
        let (router, routes) = app::router(Arc::clone(&state));
        Ok(Server {
            state,
            router,
            routes,
        })
    }

    /// Every route the router serves.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The router, to serve another way or to test without a socket.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Serves on `listener` until `shutdown` resolves, then stops accepting, lets in-flight
    /// requests finish within the grace period, and requeues the running jobs so that the
    /// next start runs them.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let state = self.state;
        // Postgres: the schema first (once, whichever replica comes first), then the jobs of
        // replicas that died while this one was away.
        state.jobs.store.migrate().await?;
        if state.config.jobs_db.is_some() {
            let recovery = state
                .jobs
                .store
                .recover(Stale::Expired, state.config.job_max_attempts, now_ms())
                .await?;
            log_recovery(&state, &recovery);
        }
        let dispatcher = tokio::spawn(jobs::dispatch(Arc::clone(&state)));
        let purger = tokio::spawn(jobs::purge_loop(Arc::clone(&state)));
        // Webhooks left pending by a stop: at once with SQLite (this process is the only
        // runner); with replicas, the purge loop's sweep sends those older than a delivery.
        if state.config.jobs_db.is_none() {
            tokio::spawn(jobs::deliver_pending_webhooks(
                Arc::clone(&state),
                std::time::Duration::ZERO,
            ));
        }

        let drain = {
            let state = Arc::clone(&state);
            async move { state.until_shutdown().await }
        };
        let limits = crate::conn::ConnLimits {
            header_timeout: state.config.header_timeout,
            max_connections: crate::conn::connection_capacity(state.config.max_connections),
        };
        let mut serving = tokio::spawn(crate::conn::serve(listener, self.router, limits, drain));
        tokio::select! {
            _ = shutdown => {}
            ended = &mut serving => {
                state.shutdown.send_replace(true);
                let _ = dispatcher.await;
                return match ended {
                    Ok(r) => r.map_err(ServerError::from),
                    Err(e) => Err(std::io::Error::other(e.to_string()).into()),
                };
            }
        }
        tracing::info!("shutting down: no new connections; finishing in-flight requests");
        state.shutdown.send_replace(true);
        state.jobs.cancel_all();
        let grace = state.config.shutdown_grace;
        match tokio::time::timeout(grace, &mut serving).await {
            Ok(_) => tracing::info!("in-flight requests finished"),
            Err(_) => {
                tracing::warn!(
                    ?grace,
                    "in-flight requests did not finish in time; closing them"
                );
                serving.abort();
            }
        }
        // Running jobs stop at their next page and are requeued.
        if tokio::time::timeout(grace, dispatcher).await.is_err() {
            tracing::warn!("running jobs did not stop in time; the next start requeues them");
        }
        purger.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

fn log_recovery(state: &AppState, recovery: &Recovery) {
    if !recovery.requeued.is_empty() || !recovery.ended.is_empty() {
        tracing::warn!(
            requeued = ?recovery.requeued,
            ended = ?recovery.ended,
            "interrupted jobs recovered"
        );
    }
    for _ in &recovery.requeued {
        state.metrics.job("requeued");
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM"),
                    _ = int.recv() => tracing::info!("SIGINT"),
                }
                return;
            }
            _ => tracing::warn!("cannot listen for SIGTERM; stopping on Ctrl-C only"),
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
