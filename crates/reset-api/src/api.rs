//! [`Api`]: the state behind every adapter (the service, the options, the document, the
//! connection limits) and the caller's context. A leaf: the router builds an `Api`
//! ([`Api::new`]) and answers with it ([`Api::handle`]); handlers read from it; it calls none of
//! them.

use std::sync::Arc;

use bytes::Bytes;
use ipnet::IpNet;
use reset_core::{ClientContext, ResetService};

use crate::client_ip::client_ip;
use crate::connections::{Connections, ServeLimits};
use crate::mounts::{Dialect, Dialects, Mount};
use crate::request::ApiRequest;

/// Whether every request must come with the client's socket address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PeerAddress {
    /// The default: a request without it is answered 500 with the fix in the log and the
    /// problem's detail, since without it the per-IP rate limits, the per-address shares of
    /// the send caps and guess budget, and the audit trail's addresses are all off. Each
    /// adapter's `serve` passes it; mounted in an application, the framework must (axum:
    /// `into_make_service_with_connect_info::<SocketAddr>()`; actix-web and warp do by
    /// themselves).
    #[default]
    Required,
    /// The embedder chose to run without it (the limits per address are then off): say so
    /// explicitly.
    NotNeeded,
}

/// HTTP-level settings.
#[derive(Debug, Clone, Default)]
pub struct ApiOptions {
    /// Peers whose `X-Forwarded-For` is believed (empty: the socket peer is the client).
    pub trusted_proxies: Vec<IpNet>,
    /// The compatibility dialects mounted beside v1 (all, by default).
    pub dialects: Dialects,
    /// Whether requests must carry the client's address (see [`PeerAddress`]).
    pub peer_address: PeerAddress,
}

/// The OpenAPI document as served: 3.1, and its 3.0.3 rendition.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) openapi: Bytes,
    pub(crate) openapi_3_0: Bytes,
}

/// Which routes an [`Api`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// v1, the pages, the operations and the enabled dialects.
    Public,
    /// `GET /metrics` alone (see [`Api::metrics_only`]).
    Metrics,
}

/// The whole HTTP API over one [`ResetService`]. Cheap to clone.
///
/// Built by [`Api::new`] and answering through [`Api::handle`] (both in the router); this
/// module holds what they and the handlers read.
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
    /// The enabled dialects and their prefixes, Zitadel's Connect service included.
    mounts: Vec<(Dialect, Mount)>,
    document: Document,
    surface: Surface,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl Api {
    /// The state of a public API, on the runtime it is built on (if any).
    pub(crate) fn assemble(service: ResetService, options: ApiOptions, document: Document) -> Self {
        let mounts = options
            .dialects
            .mounts()
            .into_iter()
            .filter(|(_, m)| m.enabled)
            .collect();
        Self {
            inner: Arc::new(Inner {
                service,
                home: tokio::runtime::Handle::try_current().ok(),
                options,
                mounts,
                document,
                surface: Surface::Public,
            }),
            limits: ServeLimits::default(),
        }
    }

    /// The same API with other connection limits.
    pub fn with_limits(mut self, limits: ServeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The connection deadlines and caps its adapters' `serve` applies (default:
    /// [`ServeLimits::default`]).
    pub fn limits(&self) -> &ServeLimits {
        &self.limits
    }

    /// The connection bookkeeping an adapter's `serve` runs under: these limits, with the
    /// trusted proxies exempt from the per-address cap (every connection through a proxy comes
    /// from its address; the proxy limits its own clients).
    pub fn connections(&self) -> Connections {
        Connections::new(self.limits).exempting(self.inner.options.trusted_proxies.clone())
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
                options,
                mounts: Vec::new(),
                document: self.inner.document.clone(),
                surface: Surface::Metrics,
            }),
            limits: self.limits,
        }
    }

    /// The reset service the API answers with, for work beside the routes (readiness, the
    /// retention sweep, settling accepted requests).
    pub fn service(&self) -> &ResetService {
        &self.inner.service
    }

    /// The runtime the API was built on, if it was built on one.
    pub(crate) fn home(&self) -> Option<&tokio::runtime::Handle> {
        self.inner.home.as_ref()
    }

    pub(crate) fn surface(&self) -> Surface {
        self.inner.surface
    }

    /// Whether requests must carry the client's address.
    pub(crate) fn peer_address(&self) -> PeerAddress {
        self.inner.options.peer_address
    }

    pub(crate) fn dialects(&self) -> &Dialects {
        &self.inner.options.dialects
    }

    /// The enabled dialects and where they are mounted.
    pub(crate) fn mounts(&self) -> &[(Dialect, Mount)] {
        &self.inner.mounts
    }

    pub(crate) fn openapi_bytes(&self) -> Bytes {
        self.inner.document.openapi.clone()
    }

    pub(crate) fn openapi_3_0_bytes(&self) -> Bytes {
        self.inner.document.openapi_3_0.clone()
    }

    /// The caller's context: client IP through trusted proxies, and the API surface.
    pub(crate) fn context(&self, req: &ApiRequest, via: &str) -> ClientContext {
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
