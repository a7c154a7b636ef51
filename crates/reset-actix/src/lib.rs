#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use std::time::Duration;

use actix_http::error::DispatchError;
use actix_http::{HttpService, KeepAlive};
use actix_service::{IntoServiceFactory as _, ServiceFactoryExt as _, fn_service, map_config};
use actix_web::dev::AppConfig;
use reset_api::connections::{Conn, Guarded};
use reset_api::{Api, ApiRequest, ApiResponse};

/// Serves the API at the root of `listener` with one worker per core until `shutdown`
/// resolves, with the deadlines and connection cap of `api.limits()` (see
/// [`reset_api::connections`]; actix-web's own request and keep-alive timers are off, so that
/// every adapter behaves alike); on shutdown, requests in flight get the grace period, idle and
/// slow connections end at once. actix's own signal handling is off: the caller owns shutdown.
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Api,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = api.connections();
    let limits = *connections.limits();
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let addr = listener.local_addr()?;
    let accepted = connections.clone();
    let server = actix_server::Server::build()
        .workers(workers)
        // actix accepts on its own thread: the cap is per worker (each stops accepting at its
        // share, and accepting pauses when all have).
        .max_concurrent_connections((limits.max_connections / workers).max(1))
        .disable_signals()
        .listen("reset", listener.into_std()?, move || {
            let accepted = accepted.clone();
            let app = actix_web::App::new().configure(configure(api.clone()));
            fn_service(move |io: tokio::net::TcpStream| {
                let peer = io.peer_addr().ok();
                // Past its address's share of the cap, the connection is closed unanswered.
                let admitted = match peer.map(|p| accepted.admit(p.ip())) {
                    Some(Some(slot)) => Ok(accepted.guard(io, None, slot).0),
                    _ => Err(DispatchError::Io(
                        std::io::ErrorKind::ConnectionRefused.into(),
                    )),
                };
                async move { admitted.map(|io| (io, peer)) }
            })
            .and_then(
                HttpService::build()
                    .keep_alive(KeepAlive::Os)
                    .client_request_timeout(Duration::ZERO)
                    // A connection whose client stopped taking the response is failed by the
                    // guard's write deadline; this bounds the wait for its last flush.
                    .client_disconnect_timeout(Duration::from_secs(1))
                    .local_addr(addr)
                    .on_connect_ext(|io: &Guarded<tokio::net::TcpStream>, ext| {
                        ext.insert(io.conn());
                    })
                    .h1(map_config(app.into_factory(), |()| AppConfig::default())),
            )
        })?
        .run();
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.await;
        handle.pause().await;
        connections.shut_down().await;
        handle.stop(false).await;
    });
    server.await
}

/// Every route of the API, for `App::configure` or `Scope::configure`: the API answers every
/// request under the mount point (404 and 405 included).
pub fn configure(api: Api) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(api))
            .default_service(web::to(handle));
    }
}

async fn handle(req: HttpRequest, mut payload: web::Payload, api: web::Data<Api>) -> HttpResponse {
    // The connection is busy (not idle, not slow) until the answer is made.
    let _in_flight = req.conn_data::<Conn>().map(Conn::request);
    let path = path_below_mount(&req);
    let body = match api.read_body(&path, &mut payload).await {
        Ok(body) => body,
        Err(late) => return into_response(late),
    };
    let request = ApiRequest {
        method: req.method().as_str().to_owned(),
        path,
        query: Some(req.query_string())
            .filter(|q| !q.is_empty())
            .map(str::to_owned),
        headers: req
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body,
        peer: req.peer_addr(),
    };
    into_response(api.handle_on_home(request).await)
}

/// The raw (undecoded) path below the mount point. actix-web's own view of the rest of the path
/// is percent-decoded, so the mount's depth is taken from it and cut from the raw path.
fn path_below_mount(req: &HttpRequest) -> String {
    let info = req.match_info();
    let full = info.as_str();
    let consumed = full
        .get(..full.len().saturating_sub(info.unprocessed().len()))
        .unwrap_or_default();
    let depth = consumed.matches('/').count();
    let raw = req.uri().path();
    let start = if depth == 0 {
        Some(0)
    } else {
        raw.match_indices('/').nth(depth).map(|(i, _)| i)
    };
    match start.and_then(|i| raw.get(i..)) {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => "/".to_owned(),
    }
}

fn into_response(r: ApiResponse) -> HttpResponse {
    let mut response = HttpResponse::build(
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, value) in r.headers {
        // actix-web writes `connection` itself.
        if name == "connection" && value == "close" {
            response.force_close();
        } else {
            response.append_header((name, value));
        }
    }
    response.body(Chunks(r.body))
}

/// A response body handed to actix in slices of the one shared buffer (no copy per
/// connection): actix copies a chunk into the connection's write buffer only while that buffer
/// has room, so a client that does not read holds a few KiB, not a copy of the whole answer.
struct Chunks(Bytes);

/// Bytes per slice.
const CHUNK: usize = 16 * 1024;

impl MessageBody for Chunks {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.0.len() as u64)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let rest = &mut self.get_mut().0;
        if rest.is_empty() {
            return Poll::Ready(None);
        }
        let n = rest.len().min(CHUNK);
        Poll::Ready(Some(Ok(rest.split_to(n))))
    }
}
