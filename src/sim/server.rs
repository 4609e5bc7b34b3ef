//! Serving: the router, a hand-rolled accept loop (so a fault can drop a connection
//! without an answer, which axum's `serve` cannot), and the handle tests hold.

use super::catalogue::{SeedError, SeedItem};
use super::config::{Faults, SimConfig};
use super::faults::{self, DropConnection};
use super::state::Shared;
use super::stats::SimStats;
use super::store::{PublishingStatus, SimEntity};
use super::ui::{self, UiError};
use super::{catalogue, control, login, v11, v12};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Uri};
use chrono::{DateTime, TimeDelta, Utc};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;
use uuid::Uuid;

/// Starts simulators.
pub struct Simulator;

impl Simulator {
    /// Starts a simulator on an ephemeral loopback port.
    pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        Self::start_on(config, listener).await
    }

    /// Starts a simulator on a listener the caller bound. Async so that callers need
    /// not change if startup ever has to wait for something.
    #[allow(clippy::unused_async)]
    pub async fn start_on(
        mut config: SimConfig,
        listener: TcpListener,
    ) -> anyhow::Result<SimHandle> {
        let addr = listener.local_addr()?;
        let seed = std::mem::take(&mut config.catalogue);
        let shared = Arc::new(Shared::new(config));
        catalogue::seed(&shared, &seed)?;
        let router = router(shared.clone());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router, stopped));
        Ok(SimHandle {
            inner: Arc::new(Inner {
                shared,
                addr,
                stop,
                task: Mutex::new(Some(task)),
            }),
        })
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let api = v11::routes().merge(v12::routes(shared.clone())).layer(
        axum::middleware::from_fn_with_state(shared.clone(), faults::api),
    );
    let login = login::routes().layer(axum::middleware::from_fn_with_state(
        shared.clone(),
        faults::login,
    ));
    api.merge(login)
        .merge(control::routes())
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .with_state(shared)
}

async fn accept_loop(listener: TcpListener, router: Router, mut stopped: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "simulator accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            },
            _ = stopped.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let router = router.clone();
        async move {
            let req = canonical(req.map(Body::new));
            let response = router
                .oneshot(req)
                .await
                .unwrap_or_else(|never| match never {});
            if response.extensions().get::<DropConnection>().is_some() {
                // An error from the service makes hyper close the connection unanswered.
                Err(DropConnection)
            } else {
                Ok(response)
            }
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Rewrites the literal segments of a v11 path to the route table's spelling.
fn canonical(mut req: Request<Body>) -> Request<Body> {
    let path = req.uri().path();
    let lowered_prefix = path.get(..9).map(str::to_ascii_lowercase);
    if !matches!(lowered_prefix.as_deref(), Some("/api/v11/" | "/api/auth")) {
        return req;
    }
    let segments: Vec<&str> = path.split('/').collect();
    // The template matching the most literal segments wins, as in routing:
    // `/servicechannel/echannel` is the EChannel create, not a read by id.
    let best = v11::ROUTES
        .iter()
        .filter_map(|route| {
            let template: Vec<&str> = route.split('/').collect();
            let matches = template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t.eq_ignore_ascii_case(s));
            let literals = template.iter().filter(|t| !t.starts_with('{')).count();
            matches.then_some((literals, template))
        })
        .max_by_key(|(literals, _)| *literals);
    let rewritten = best.map(|(_, template)| {
        template
            .iter()
            .zip(&segments)
            .map(|(t, s)| if t.starts_with('{') { *s } else { *t })
            .collect::<Vec<_>>()
            .join("/")
    });
    if let Some(new_path) = rewritten.filter(|p| p != path) {
        let path_and_query = match req.uri().query() {
            Some(q) => format!("{new_path}?{q}"),
            None => new_path,
        };
        if let Ok(uri) = Uri::builder().path_and_query(path_and_query).build() {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Engines and daemons under test can run on the simulator's clock.
impl crate::clock::Clock for SimHandle {
    fn now(&self) -> DateTime<Utc> {
        self.inner.shared.now()
    }
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// A running simulator. Clones share it.
#[derive(Clone)]
pub struct SimHandle {
    inner: Arc<Inner>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`: v11 under `/api/v11`, v12 under `/api/v12`, the login at
    /// `/api/auth/api-login`, the control surface under `/_sim`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    pub fn set_faults(&self, faults: Faults) {
        self.inner.shared.set_faults(faults);
    }

    #[must_use]
    pub fn faults(&self) -> Faults {
        self.inner.shared.faults()
    }

    /// Every issued token stops being active, before its `exp`.
    pub fn revoke_all_tokens(&self) {
        self.inner.shared.auth.revoke_all();
    }

    /// As an editor leaving an unpublished edit in the UI: the latest version becomes
    /// Modified and blocks API writes. Answers whether the entity exists and is live.
    #[allow(clippy::must_use_candidate)]
    pub fn set_modified(&self, ptv_id: Uuid) -> bool {
        control::set_modified(&self.inner.shared, ptv_id)
    }

    /// Opens (`Some(user)`) or closes (`None`) the entity in the UI editor.
    #[allow(clippy::must_use_candidate)]
    pub fn set_locked(&self, ptv_id: Uuid, by: Option<String>) -> bool {
        control::set_locked(&self.inner.shared, ptv_id, by)
    }

    /// The sim clock: real time plus the offset tests moved it by.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.shared.now()
    }

    /// Moves the sim clock forward by `by` and runs automatic archiving up to the new
    /// now, which it answers.
    #[allow(clippy::must_use_candidate)]
    pub fn advance_clock(&self, by: std::time::Duration) -> DateTime<Utc> {
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        self.inner.shared.advance_clock(by)
    }

    /// Sets the sim clock (forward or back) and runs automatic archiving up to it.
    #[allow(clippy::must_use_candidate)]
    pub fn set_clock(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.inner.shared.set_clock(at)
    }

    /// As a person publishing an edit in PTV's UI: each JSON pointer of `set` is set in
    /// the stored body, as a new Published version saved now by `by`.
    pub fn ui_edit(
        &self,
        ptv_id: Uuid,
        set: &[(&str, serde_json::Value)],
        by: &str,
    ) -> Result<SimEntity, UiError> {
        ui::edit(&self.inner.shared, ptv_id, set, by)
    }

    /// As a person archiving the item in PTV's UI (archivingType Manual).
    pub fn ui_archive(&self, ptv_id: Uuid, by: Option<&str>) -> Result<SimEntity, UiError> {
        ui::archive(&self.inner.shared, ptv_id, by.unwrap_or(ui::UI_USER))
    }

    /// As a person removing a service's connection to a channel in PTV's UI.
    pub fn ui_disconnect(
        &self,
        service: Uuid,
        channel: Uuid,
        by: Option<&str>,
    ) -> Result<SimEntity, UiError> {
        ui::disconnect(
            &self.inner.shared,
            service,
            channel,
            by.unwrap_or(ui::UI_USER),
        )
    }

    /// Adds items as if made before ptv-sync arrived (in the UI, by another API user,
    /// drafts, Modified or archived), all or nothing; answers their PTV ids.
    pub fn seed_catalogue(&self, items: &[SeedItem]) -> Result<Vec<Uuid>, SeedError> {
        catalogue::seed(&self.inner.shared, items)
    }

    #[must_use]
    pub fn catalogue(&self) -> Vec<SimEntity> {
        self.inner
            .shared
            .catalogue()
            .all()
            .map(super::store::Entity::view)
            .collect()
    }

    #[must_use]
    pub fn entity(&self, id: Uuid) -> Option<SimEntity> {
        self.inner
            .shared
            .catalogue()
            .get(id)
            .map(super::store::Entity::view)
    }

    /// Entities whose status is `status`.
    #[must_use]
    pub fn with_status(&self, status: PublishingStatus) -> Vec<SimEntity> {
        self.catalogue()
            .into_iter()
            .filter(|e| e.status == status)
            .collect()
    }

    #[must_use]
    pub fn stats(&self) -> SimStats {
        self.inner.shared.stats().clone()
    }

    /// Entities that share (kind, organisation, language, name) or (owner, scope,
    /// sourceId); archived ones count. A correct sync leaves none.
    #[must_use]
    pub fn duplicates(&self) -> Vec<SimEntity> {
        self.inner.shared.catalogue().duplicates()
    }

    /// Stops accepting and closes every connection.
    pub async fn shutdown(self) {
        let _ = self.inner.stop.send(true);
        let task = self.inner.task.lock().expect("task poisoned").take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
