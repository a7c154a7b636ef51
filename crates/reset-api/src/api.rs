//! [`Api`]: the service behind every adapter.

use std::sync::Arc;

use bytes::Bytes;
use ipnet::IpNet;
use reset_core::{ClientContext, ResetService};

use crate::client_ip::client_ip;
use crate::connections::{ServeLimits, body_timeout_response};
use crate::dialects::Dialects;
use crate::problem::{INTERNAL_ERROR, Problem};
use crate::request::{ApiRequest, Body, read_body};
use crate::response::ApiResponse;
use crate::{openapi, router};

/// Whether the missing-peer warning was logged (once per process is enough).
static WARNED_NO_PEER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// HTTP-level settings.
#[derive(Debug, Clone, Default)]
pub struct ApiOptions {
    /// Peers whose `X-Forwarded-For` is believed (empty: the socket peer is the client).
    pub trusted_proxies: Vec<IpNet>,
    /// The compatibility dialects mounted beside v1 (all, by default).
    pub dialects: Dialects,
}

/// The whole HTTP API over one [`ResetService`]. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
    /// The deadlines and cap its adapters' `serve` applies; the body deadline applies wherever
    /// the routes are mounted.
    limits: ServeLimits,
}

struct Inner {
    service: ResetService,
    /// The runtime the API was built on (see [`Api::handle_on_home`]).
    home: Option<tokio::runtime::Handle>,
    options: ApiOptions,
    openapi: Bytes,
    openapi_3_0: Bytes,
    /// The routes served, dialects included.
    table: Vec<router::Entry>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl Api {
    pub fn new(service: ResetService, options: ApiOptions) -> Self {
        let openapi = Bytes::from(openapi::document_json());
        let openapi_3_0 = Bytes::from(openapi::document_3_0_json());
        crate::metrics::install();
        let home = tokio::runtime::Handle::try_current().ok();
        Self {
            inner: Arc::new(Inner {
                service,
                home,
                table: router::table(&options.dialects),
                options,
                openapi,
                openapi_3_0,
            }),
            limits: ServeLimits::default(),
        }
    }

    /// The same API with other connection limits.
    pub fn with_limits(mut self, limits: ServeLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> &ServeLimits {
        &self.limits
    }

    /// [`read_body`] within the body deadline (`limits().body_timeout`); when the body is late,
    /// the answer to send instead (408, and the connection closes).
    pub async fn read_body<B: bytes::Buf, E>(
        &self,
        chunks: impl futures_util::Stream<Item = Result<B, E>> + Unpin,
    ) -> Result<Body, ApiResponse> {
        tokio::time::timeout(self.limits.body_timeout, read_body(chunks))
            .await
            .map_err(|_| body_timeout_response())
    }

    /// The same API answering only `GET /metrics` (Prometheus text); every other request is
    /// v1's 404 (or 405). Serve it on a listener of its own, never the public one: the outbox
    /// and delivery series move only when a real account is asked for, so whoever can scrape
    /// them can tell which accounts exist.
    pub fn metrics_only(&self) -> Api {
        let mut options = self.inner.options.clone();
        let d = &mut options.dialects;
        for mount in [
            &mut d.misskey,
            &mut d.forgot_password,
            &mut d.unleash,
            &mut d.zitadel,
        ] {
            mount.enabled = false;
        }
        Self {
            inner: Arc::new(Inner {
                service: self.inner.service.clone(),
                home: self.inner.home.clone(),
                table: router::metrics_table(),
                options,
                openapi: self.inner.openapi.clone(),
                openapi_3_0: self.inner.openapi_3_0.clone(),
            }),
            limits: self.limits,
        }
    }

    /// Answers one request. Never panics on input; every failure is a response.
    pub async fn handle(&self, req: ApiRequest) -> ApiResponse {
        let mut response = router::dispatch(self, &req).await;
        if req.method == "HEAD" {
            response.body = Bytes::new();
        }
        response
    }

    /// [`Api::handle`], run on the runtime the API was built on. For frameworks that give each
    /// worker a runtime of its own (actix-web): database connections and background work then
    /// live on the one runtime that outlasts the workers.
    pub async fn handle_on_home(&self, req: ApiRequest) -> ApiResponse {
        let Some(home) = self.inner.home.clone() else {
            return self.handle(req).await;
        };
        let api = self.clone();
        match home.spawn(async move { api.handle(req).await }).await {
            Ok(response) => response,
            Err(e) => {
                tracing::error!(error = %e, "request task failed");
                Problem::new(INTERNAL_ERROR, "Something went wrong on our side.").into_response()
            }
        }
    }

    /// The (method, path) pairs served with every dialect at its default prefix.
    pub fn routes() -> Vec<(&'static str, String)> {
        router::routes()
    }

    pub(crate) fn table(&self) -> &[router::Entry] {
        &self.inner.table
    }

    pub(crate) fn dialects(&self) -> &Dialects {
        &self.inner.options.dialects
    }

    pub fn service(&self) -> &ResetService {
        &self.inner.service
    }

    pub(crate) fn openapi_bytes(&self) -> Bytes {
        self.inner.openapi.clone()
    }

    pub(crate) fn openapi_3_0_bytes(&self) -> Bytes {
        self.inner.openapi_3_0.clone()
    }

    /// The caller's context: client IP through trusted proxies, and the API surface.
    pub(crate) fn context(&self, req: &ApiRequest, via: &str) -> ClientContext {
        if req.peer.is_none() && !WARNED_NO_PEER.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::warn!(
                "a request came without the client's address: per-IP rate limits and the audit trail's IPs are off \
                 (with axum, serve with into_make_service_with_connect_info::<SocketAddr>())"
            );
        }
        let ip = client_ip(
            req.peer.map(|p| p.ip()),
            req.header_all("x-forwarded-for"),
            &self.inner.options.trusted_proxies,
        );
        ClientContext {
            ip,
            via: via.to_owned(),
        }
    }
}
