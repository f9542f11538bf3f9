//! `tracemark serve`: the JSON API over the registry engine, under `/api/v1/`, with its
//! OpenAPI document at `/api/v1/openapi.json` (generated from the handlers with `utoipa`).
//!
//! **Access control** (see [`auth`]): every route but health, this document, sign-in and the
//! federation's inbox and identity (peers sign every envelope) needs
//! a session cookie (`POST /api/v1/session`) or a service account's bearer token; the Cedar
//! policy set `policies/tracemark.cedar` decides what each role may do; reads, searches,
//! imports, sign-ins and every denial go to the audit log before the answer.
//!
//! **HTTPS** (see [`tls`]): given a certificate chain and its private key
//! ([`ServerConfig::tls`], `serve --tls-cert/--tls-key`), the server speaks only HTTPS (rustls,
//! TLS 1.2 and 1.3) and the session cookie carries `Secure`. Without them it speaks plain
//! HTTP, meant for loopback (the default address, `127.0.0.1:8080`) or behind a TLS-ending
//! proxy; on any other address it warns at start that credentials travel unencrypted.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /api/v1/health` | `{"status":"ok","ledger_size":N}`; 503 when the store does not answer |
//! | `GET /api/v1/items/{key}` | the item document (`item show --json`) |
//! | `GET /api/v1/items/{key}/custody` | the chain of custody (`custody --json`) |
//! | `GET /api/v1/search?q=…` | the search document (`search --json`), paged by `limit`/`offset` |
//! | `POST /api/v1/records` | JSON Lines import; 200 with the report, 422 if any line is rejected |
//! | `POST /api/v1/registers?filename=` | import a register export (CSV, TSV, spreadsheet) → report |
//! | `GET /api/v1/items/{key}/trace-draft?case=` | a trace request drafted from the item |
//! | `POST /api/v1/traces/check?purpose=` | a trace request's gaps and proposed recipients |
//! | `POST /api/v1/traces/print?purpose=&to=&format=&date=` | the printable request (HTML, or PDF with `format=pdf` or `Accept: application/pdf`) |
//! | `POST /api/v1/traces/answer-draft?purpose=` | an answer to a received request, from the registry |
//! | `GET /api/v1/traces?status=&role=&case=&limit=&offset=` | the traces on record (projection rows), newest first (see [`traces_api`]) |
//! | `POST /api/v1/traces` | a trace request → a draft on record (201, `Location`) |
//! | `GET /api/v1/traces/{key}?purpose=` | one trace: state, exchanges, every step |
//! | `PUT /api/v1/traces/{key}` | amend the draft |
//! | `POST /api/v1/traces/{key}/send` | `{"to","waivers"}`: send the draft; messages queued for peers |
//! | `POST /api/v1/traces/{key}/chain` | `{"to","id"?,"waivers"?}`: the next trace of the chain, sent (201) |
//! | `POST /api/v1/traces/{key}/acknowledge` | `{"for"?,"channel"?,"note"?}`: acknowledge, or record a requested state's acknowledgement |
//! | `POST /api/v1/traces/{key}/answer` | `{"answer","for"?,"channel"?,"note"?}`: answer, or record a requested state's answer |
//! | `POST /api/v1/traces/{key}/follow-up` | `{"to","question"}` |
//! | `POST /api/v1/traces/{key}/close` | `{"feedback"}` |
//! | `GET /api/v1/traces/overdue` | the overdue list and the reminders due, at the server's clock |
//! | `GET /api/v1/traces/figures` | the trace figures (response times, outcomes, SDG 16.4.2) |
//! | `GET /api/v1/federation/outbox?status=&peer=&limit=&offset=` | where each queued message stands (tracing officers, administrators) |
//! | `GET /api/v1/ledger/key` | the verifier key (text) |
//! | `GET /api/v1/ledger/checkpoint` | the latest signed checkpoint (text) |
//! | `GET /api/v1/ledger/leaves/{index}` | `{"leafIdx","leafHash","data"}` |
//! | `GET /api/v1/ledger/proof?index=&size=` | an RFC 9162 inclusion proof |
//! | `GET /api/v1/ledger/consistency?from=&to=` | an RFC 9162 consistency proof |
//! | `POST /api/v1/session` | sign in: `{"username","password","totp"}` → session cookie |
//! | `GET`/`DELETE /api/v1/session` | who is signed in / sign out |
//! | `POST /api/v1/session/totp` | start TOTP enrolment: the `otpauth://` URL |
//! | `GET /api/v1/audit?from=&limit=&principal=&agency=&action=&resource=&decision=&since=&until=` | the audit log, filtered in the database (auditors) |
//! | `GET /api/v1/federation/identity` | this node's public federation identity and fingerprint (no credential) |
//! | `POST /api/v1/federation/inbox` | a peer's sealed envelope → the signed delivery receipt (no credential: the signature authenticates; see [`federation_api`]) |
//! | `GET /api/v1/openapi.json` | the OpenAPI document |
//!
//! **The web application** (see [`web`]) is served beside the API, outside `/api/v1/`:
//!
//! | route | page |
//! | --- | --- |
//! | `GET /` | to `/search` when signed in, else to `/sign-in` |
//! | `GET`/`POST /sign-in` | sign in (account, password, TOTP code): the API's sign-in and cookie |
//! | `POST /sign-out` | end the session |
//! | `GET /search?q=` | search, hits grouped by match class with the reason |
//! | `GET /items/{key}?purpose=` | an item; with a purpose, its chain of custody |
//! | `POST /language` | the language (`tracemark_lang` cookie; also `?lang=` on any page) |
//! | `GET /static/tracemark.css` | the style sheet |
//!
//! Pages read through the API's own functions (same policy decisions, audit entries and
//! need-to-know filter); their forms are CSRF-checked; every word comes from the Fluent
//! catalogues (English, French, Spanish, Arabic).
//!
//! Every API error answer is `{"error":{"code","message","request_id"}}` (see [`error`]); every
//! answer carries an `x-request-id` (the client's when it is sane, else a new UUID v4). Each
//! exchange is logged through `tracing` (method, path, status, latency, request id; never a
//! body or a query string).
//!
//! The store is reached through worker threads that each own an opened node (see `worker`):
//! one answers reads, one runs imports (so reads go on during an import), one follows the
//! ledger for the search index.
//! The search index is held in memory, loaded once at start and replaced after each import
//! that committed records. It also follows the ledger: several app servers may share one
//! PostgreSQL database (or a CLI may import beside the server), so a follower polls the
//! ledger size every [`FOLLOW_INTERVAL`] on a connection of its own and catches the index up
//! when it moved, and every search compares the size first; a record committed by another
//! server is searchable here well within a second.

pub mod admin;
pub mod alerts;
pub mod api;
mod audit_writer;
pub mod auth;
pub mod delivery;
pub mod error;
pub mod federation_api;
pub mod register_api;
pub mod schema;
pub mod session_api;
pub mod tls;
pub mod trace_api;
pub mod traces_api;
pub mod web;
mod worker;

use audit_writer::AuditWriter;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request};
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracemark_access::session::Sessions;
use tracemark_access::PolicyEngine;
use tracemark_registry::search::SearchIndex;
use tracemark_registry::{Clock, Location};
use utoipa::OpenApi;
use worker::Worker;

pub use api::ApiDoc;
pub use error::ApiError;
pub use tls::{TlsError, TlsFiles};

/// The default listening address: loopback only (plain HTTP is meant for loopback).
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    8080,
));
/// The default largest request body (an import), in bytes: 64 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 << 20;

/// How often the follower compares the ledger size with the search index's.
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// The node's data folder (the embedded store, the signing key, the search snapshot).
    pub data_dir: PathBuf,
    /// A PostgreSQL store (`postgres://…`) instead of the embedded one.
    pub database: Option<String>,
    /// Largest request body accepted (imports); default 64 MiB. Larger answers 413.
    pub max_body_bytes: usize,
    /// Sessions and extra policies.
    pub auth: AuthConfig,
    /// Serve HTTPS with this certificate and key (PEM files) instead of plain HTTP.
    pub tls: Option<TlsFiles>,
}

impl Default for ServerConfig {
    /// `127.0.0.1:8080`, `./tracemark-data`, 64 MiB.
    fn default() -> Self {
        ServerConfig::new("./tracemark-data")
    }
}

impl ServerConfig {
    /// The defaults for a data folder.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            addr: DEFAULT_ADDR,
            data_dir: data_dir.into(),
            database: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            auth: AuthConfig::default(),
            tls: None,
        }
    }
}

/// The wall clock, for the `recorded_at` of imported records.
pub use tracemark_registry::SystemClock;

/// What the handlers share: the store workers, the search index, the settings.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
    max_body_bytes: usize,
    /// Session cookies carry `Secure` (the server speaks HTTPS).
    secure_cookies: bool,
}

struct Inner {
    data_dir: PathBuf,
    reader: Worker,
    writer: Worker,
    /// Sign-ins, TOTP enrolment and the audit log: small writes, serialized on their own
    /// connection so that they never wait behind an import's batch for long.
    auditor: Worker,
    /// The audit log's group commit (audited reads and denials).
    audit_writer: AuditWriter,
    /// Catches the search index up with records written by other processes.
    follower: Worker,
    policy: PolicyEngine,
    sessions: Sessions,
    search: RwLock<Arc<SearchIndex>>,
    clock: Arc<dyn Clock + Send + Sync>,
    openapi_json: Bytes,
    /// The federation outbox's delivery task (see [`delivery`]).
    delivery: delivery::Delivery,
}

/// Settings of authentication and authorization.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// A session ends after this many seconds without a request (default 30 minutes).
    pub idle_seconds: i64,
    /// More Cedar policies (file texts), added to the shipped `policies/tracemark.cedar`.
    pub extra_policies: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            idle_seconds: tracemark_access::session::DEFAULT_IDLE_SECONDS,
            extra_policies: Vec::new(),
        }
    }
}

/// Opens the node in `data_dir` (five connections: reader, writer, auditor, audit writer,
/// follower) and loads the
/// search index. Blocks while it does; call it from a blocking context.
pub fn app_state(data_dir: impl AsRef<Path>) -> anyhow::Result<AppState> {
    AppState::open(
        data_dir.as_ref(),
        Arc::new(SystemClock),
        DEFAULT_MAX_BODY_BYTES,
    )
}

impl AppState {
    /// [`app_state`] with a chosen clock (tests use a fixed one) and body limit.
    pub fn open(
        data_dir: &Path,
        clock: Arc<dyn Clock + Send + Sync>,
        max_body_bytes: usize,
    ) -> anyhow::Result<AppState> {
        AppState::open_at(
            &Location::embedded(data_dir),
            clock,
            max_body_bytes,
            AuthConfig::default(),
        )
    }

    /// [`AppState::open`] for a node at any location (e.g. a PostgreSQL database), with
    /// authentication settings.
    pub fn open_at(
        at: &Location,
        clock: Arc<dyn Clock + Send + Sync>,
        max_body_bytes: usize,
        auth: AuthConfig,
    ) -> anyhow::Result<AppState> {
        let data_dir = at.dir.as_path();
        let policy = PolicyEngine::new(&auth.extra_policies)?;
        let reader = Worker::start("reader", at.clone())?;
        let writer = Worker::start("writer", at.clone())?;
        let auditor = Worker::start("auditor", at.clone())?;
        let audit_writer = AuditWriter::start(at.clone())?;
        let follower = Worker::start("follower", at.clone())?;
        // The federation identity: this data folder's `federation.key` must be the one the
        // store was set up with (app servers sharing a database share one key).
        writer
            .run_blocking(|node| tracemark_registry::federation::pin_identity(node).map(|_| ()))?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let index = load_search(&writer)?;
        let openapi_json = Bytes::from(serde_json::to_vec(&ApiDoc::openapi())?);
        Ok(AppState {
            inner: Arc::new(Inner {
                data_dir: data_dir.to_owned(),
                reader,
                writer,
                auditor,
                audit_writer,
                follower,
                policy,
                sessions: Sessions::new(auth.idle_seconds),
                search: RwLock::new(Arc::new(index)),
                clock,
                openapi_json,
                delivery: delivery::Delivery::new(),
            }),
            max_body_bytes,
            secure_cookies: false,
        })
    }

    /// The same state with another body limit.
    pub fn with_max_body_bytes(self, max_body_bytes: usize) -> AppState {
        AppState {
            max_body_bytes,
            ..self
        }
    }

    pub(crate) fn reader(&self) -> &Worker {
        &self.inner.reader
    }

    pub(crate) fn writer(&self) -> &Worker {
        &self.inner.writer
    }

    pub(crate) fn auditor(&self) -> &Worker {
        &self.inner.auditor
    }

    pub(crate) fn audit_writer(&self) -> &AuditWriter {
        &self.inner.audit_writer
    }

    /// The delivery task's handle: `nudge()` it after a step that queued messages.
    pub(crate) fn delivery(&self) -> &delivery::Delivery {
        &self.inner.delivery
    }

    pub(crate) fn policy(&self) -> &PolicyEngine {
        &self.inner.policy
    }

    pub(crate) fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The clock's instant as Unix seconds (session idle time, lockout).
    pub(crate) fn now_unix(&self) -> Result<i64, ApiError> {
        let text = self.inner.clock.now_rfc3339();
        time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp())
            .map_err(|e| ApiError::internal(format!("the clock said '{text}': {e}")))
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock + Send + Sync> {
        self.inner.clock.clone()
    }

    pub(crate) fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Whether session cookies carry `Secure` (set when the server speaks HTTPS).
    pub(crate) fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    pub(crate) fn openapi_json(&self) -> Bytes {
        self.inner.openapi_json.clone()
    }

    /// The current search index (a snapshot: an import replaces it, never changes it).
    pub(crate) fn search_index(&self) -> Arc<SearchIndex> {
        match self.inner.search.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Installs a fresher index. An index older than the current one (a slower catch-up
    /// that finished last) is dropped rather than installed over a newer one.
    pub(crate) fn set_search_index(&self, index: SearchIndex) {
        let index = Arc::new(index);
        let mut g = match self.inner.search.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if index.ledger_size >= g.ledger_size {
            *g = index;
        }
    }

    /// Catches the search index up with the ledger, on the follower's own connection, when
    /// the ledger moved. Errors (the database unreachable) are logged and retried.
    async fn follow_once(&self) {
        let (known, rules) = {
            let current = self.search_index();
            (current.ledger_size, current.rules)
        };
        let caught_up = self
            .inner
            .follower
            .run(move |node| -> Result<Option<SearchIndex>, String> {
                tracemark_registry::search::caught_up_since(node, known, rules)
                    .map_err(|e| e.to_string())
            })
            .await;
        match caught_up {
            Ok(Ok(Some(fresh))) => self.set_search_index(fresh),
            Ok(Ok(None)) => {}
            Ok(Err(m)) => tracing::warn!("following the ledger: {m}"),
            Err(e) => tracing::warn!("following the ledger: {}", e.message),
        }
    }

    /// Follows the ledger until the task is dropped (see the module documentation).
    async fn follow(self) {
        let mut tick = tokio::time::interval(FOLLOW_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.follow_once().await;
        }
    }
}

/// Loads the search index on the writer's node, from a blocking context.
fn load_search(writer: &Worker) -> anyhow::Result<SearchIndex> {
    writer
        .run_blocking(|node| tracemark_registry::search::open(node))?
        .map_err(|e| anyhow::anyhow!("loading the search index: {e}"))
}

/// The API's routes with their middleware: request ids, tracing, JSON errors, panics → 500.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(api::health))
        .route("/items/{key}", get(api::item))
        .route("/items/{key}/custody", get(api::custody))
        .route("/search", get(api::search))
        .route("/records", post(api::import_records))
        .route("/registers", post(register_api::import_register))
        .route("/items/{key}/trace-draft", get(trace_api::draft))
        .route("/traces/check", post(trace_api::check))
        .route("/traces/print", post(trace_api::print))
        .route("/traces/answer-draft", post(trace_api::answer_draft))
        .route("/traces", get(traces_api::list).post(traces_api::create))
        .route("/traces/overdue", get(traces_api::overdue))
        .route("/traces/figures", get(traces_api::figures))
        .route(
            "/traces/{key}",
            get(traces_api::show).put(traces_api::amend),
        )
        .route("/traces/{key}/send", post(traces_api::send))
        .route("/traces/{key}/chain", post(traces_api::chain))
        .route("/traces/{key}/acknowledge", post(traces_api::acknowledge))
        .route("/traces/{key}/answer", post(traces_api::answer))
        .route("/traces/{key}/follow-up", post(traces_api::follow_up))
        .route("/traces/{key}/close", post(traces_api::close))
        .route("/federation/outbox", get(traces_api::outbox))
        .route("/ledger/key", get(api::ledger_key))
        .route("/ledger/checkpoint", get(api::ledger_checkpoint))
        .route("/ledger/leaves/{index}", get(api::ledger_leaf))
        .route("/ledger/proof", get(api::ledger_proof))
        .route("/ledger/consistency", get(api::ledger_consistency))
        .route(
            "/session",
            post(session_api::sign_in)
                .get(session_api::whoami)
                .delete(session_api::sign_out),
        )
        .route("/session/totp", post(session_api::enrol_totp))
        .route("/audit", get(session_api::audit_log))
        .route("/notifications", get(alerts::list))
        .route(
            "/agencies",
            get(admin::list_agencies).post(admin::add_agency),
        )
        .route("/users", get(admin::list_users).post(admin::add_user))
        .route(
            "/users/{name}/totp",
            post(admin::enrol_user_totp).delete(admin::reset_totp),
        )
        .route("/users/{name}/unlock", post(admin::unlock))
        .route(
            "/retention",
            get(admin::get_retention).put(admin::put_retention),
        )
        .route("/tokens", get(admin::list_tokens).post(admin::create_token))
        .route("/tokens/{id}", axum::routing::delete(admin::revoke_token))
        .route("/federation/identity", get(federation_api::identity))
        .route(
            "/federation/peers",
            get(admin::list_peers).post(admin::create_peer),
        )
        .route("/federation/inbox", post(federation_api::inbox))
        .route("/openapi.json", get(api::openapi_json))
        // Only matched routes need a credential: an unknown path still answers 404.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .nest("/api/v1", api)
        .merge(web::router())
        .fallback(error::no_route)
        .with_state(state)
        // The import streams its body itself, with its own limit.
        .layer(DefaultBodyLimit::disable())
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .headers()
                        .get(error::REQUEST_ID_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "http",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = %id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .on_failure(DefaultOnFailure::new().level(tracing::Level::ERROR)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::from_fn(error::sanitize_request_id))
}

/// A server bound to its address, not yet serving.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
    /// HTTPS with this configuration; plain HTTP when `None`.
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Server {
    /// Checks the TLS certificate and key when there are any, opens the store and binds the
    /// address (`127.0.0.1:0` picks a free port).
    pub async fn bind(config: ServerConfig) -> anyhow::Result<Server> {
        let at = Location {
            dir: config.data_dir.clone(),
            database: config.database.clone(),
        };
        let max = config.max_body_bytes;
        let auth = config.auth.clone();
        let tls_files = config.tls.clone();
        let (state, tls) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            // The certificate first: a mistake there is told before the store is opened.
            let tls = tls_files.as_ref().map(TlsFiles::load).transpose()?;
            let state = AppState::open_at(&at, Arc::new(SystemClock), max, auth)?;
            Ok((state, tls))
        })
        .await??;
        let server = Server::bind_with_state(config.addr, state).await?;
        Ok(match tls {
            Some(tls) => server.with_tls(tls),
            None => server,
        })
    }

    /// Binds the address for an already opened state (plain HTTP until [`Server::with_tls`]).
    pub async fn bind_with_state(addr: SocketAddr, state: AppState) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("binding {addr}: {e}"))?;
        Ok(Server {
            listener,
            state,
            tls: None,
        })
    }

    /// Serve HTTPS with this configuration (see [`TlsFiles::load`]) instead of plain HTTP;
    /// session cookies then carry `Secure`.
    pub fn with_tls(self, tls: Arc<rustls::ServerConfig>) -> Server {
        Server {
            tls: Some(tls),
            state: AppState {
                secure_cookies: true,
                ..self.state
            },
            ..self
        }
    }

    /// Whether the server speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.is_tls() {
            "https"
        } else {
            "http"
        }
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then stops accepting connections and waits for
    /// the requests in flight (an import in progress finishes) before returning. The same
    /// with HTTPS; a connection still in its TLS handshake at that moment is dropped.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr()?;
        let scheme = self.scheme();
        tracing::info!(%addr, scheme, "serving the API");
        if self.tls.is_none() && !addr.ip().is_loopback() {
            tracing::warn!(
                %addr,
                "serving plain HTTP on a non-loopback address: passwords, TOTP codes, session \
                 cookies and bearer tokens travel unencrypted (give --tls-cert and --tls-key, \
                 or put a TLS-ending proxy in front)"
            );
        }
        let follower = tokio::spawn(self.state.clone().follow());
        let deliverer = tokio::spawn(self.state.clone().deliver());
        let app = router(self.state);
        let served = match self.tls {
            None => axum::serve(self.listener, app)
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(anyhow::Error::from),
            Some(tls) => serve_tls(self.listener, tls, app, shutdown).await,
        };
        follower.abort();
        deliverer.abort();
        served?;
        tracing::info!("server stopped");
        Ok(())
    }
}

/// HTTPS on a bound listener until `shutdown`, then a graceful stop: no new connections,
/// the requests in flight are answered, and the connections close.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let handle = axum_server::Handle::<SocketAddr>::new();
    let stopper = handle.clone();
    let stop = tokio::spawn(async move {
        shutdown.await;
        // No deadline, as with plain HTTP: an import in progress finishes.
        stopper.graceful_shutdown(None);
    });
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(
        axum_server::tls_rustls::RustlsConfig::from_config(tls),
    );
    let served = axum_server::Server::<SocketAddr>::from_listener(listener)
        .acceptor(acceptor)
        .handle(handle)
        .accept_error_handler(|peer: Option<&SocketAddr>, e: &std::io::Error| {
            // A failed handshake (plain HTTP on this port, an untrusting client, a scan).
            tracing::debug!(peer = ?peer, error = %e, "TLS connection refused");
        })
        .serve(app.into_make_service())
        .await;
    stop.abort();
    Ok(served?)
}

/// Opens the store in `config.data_dir`, listens on `config.addr` and serves the API until
/// `shutdown` completes (graceful: requests in flight are finished).
pub async fn serve(
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Server::bind(config).await?.run(shutdown).await
}
