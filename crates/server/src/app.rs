//! The service as a running thing: shared state, routes, and a server that can run
//! in-process on a random loopback port (how the desktop app's demo mode and tests use it).

use std::{net::SocketAddr, ops::Deref, sync::Arc};

use axum::Router;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tower_http::limit::RequestBodyLimitLayer;

use crate::{clock::Clock, config::ServerConfig, oauth, store::Store, tokens::TokenKeys};

/// Requests carry a few kilobytes at most (an attestation object is ~1 KB).
const MAX_BODY: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// One sign-in attempt per user at a time (see `oauth::authorize`).
    sign_in_turns: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, Arc<tokio::sync::Mutex<()>>>>,
    pub config: ServerConfig,
    pub store: Store,
    pub clock: Clock,
    pub keys: TokenKeys,
    /// `http://127.0.0.1:port`, known once bound.
    pub base_url: String,
    /// Broker mode: Entra signs users in and holds their passkeys.
    pub broker: Option<Arc<crate::entra::Broker>>,
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Inner {
    /// Waits for this user's turn to sign in; the turn ends when the guard is dropped.
    pub async fn sign_in_turn(&self, user: uuid::Uuid) -> tokio::sync::OwnedMutexGuard<()> {
        let turn = {
            let mut turns = self.sign_in_turns.lock().unwrap_or_else(|e| e.into_inner());
            // Forget turns nobody holds or waits for, so the map stays as small as the
            // number of sign-ins in flight.
            turns.retain(|_, turn| Arc::strong_count(turn) > 1);
            turns.entry(user).or_default().clone()
        };
        turn.lock_owned().await
    }

    /// The `iss` of every token, Entra-style: `{base}/{tenant}/v2.0`.
    pub fn issuer(&self) -> String {
        format!("{}/{}/v2.0", self.base_url, self.config.tenant)
    }

    pub fn tenant_url(&self, path: &str) -> String {
        format!("{}/{}{}", self.base_url, self.config.tenant, path)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("the directory database could not be opened: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("the attestation policy is not usable: {0}")]
    Policy(#[from] crate::graph::PolicyError),
    #[error("broker mode cannot start: {0}")]
    Broker(String),
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// A running service; stops when [`Server::stop`] is called or it is dropped.
pub struct Server {
    pub state: AppState,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    pub async fn start(mut config: ServerConfig, clock: Clock) -> Result<Self, ServerError> {
        config.attestation.validate()?;
        let broker = match config.broker.clone() {
            Some(broker) => {
                // Passkeys are Entra's: its relying party, whatever the demo default says.
                config.rp_id = broker.rp_id.clone();
                config.rp_name = "Microsoft".into();
                let http = reqwest::Client::builder()
                    .user_agent(concat!("tap2key-broker/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|error| ServerError::Broker(format!("no HTTP client: {error}")))?;
                Some(Arc::new(crate::entra::Broker::new(broker, http).map_err(|error| ServerError::Broker(error.to_string()))?))
            }
            None => None,
        };
        let store = Store::open(&config.database).await?;
        let listener = TcpListener::bind(config.bind).await.map_err(|source| ServerError::Bind { addr: config.bind, source })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: config.bind, source })?;
        let state = AppState(Arc::new(Inner {
            sign_in_turns: Default::default(),
            base_url: format!("http://{addr}"),
            config,
            store,
            clock,
            keys: TokenKeys::generate(),
            broker,
        }));
        let app = router(state.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "the onboarding service stopped");
            }
        });
        tracing::info!(%addr, "onboarding service listening");
        Ok(Self { state, addr, shutdown: Some(shutdown), task: Some(task) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }

    /// Runs until the process is stopped (the server binary).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub fn router(state: AppState) -> Router {
    // In broker mode Entra signs people in: no sign-in pages of its own.
    let routes = if state.broker.is_some() {
        crate::entra::broker_routes()
    } else {
        Router::new().nest(&format!("/{}", state.config.tenant), oauth::routes()).merge(crate::graph::routes())
    };
    routes
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .with_state(state)
}
