#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::service::{Service as _, service_fn};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use reset_api::{Api, ApiRequest, ApiResponse};

/// Serves the API at the root of `listener` until `shutdown` resolves, with the deadlines and
/// connection cap of `api.limits()` (see [`reset_api::connections`]); on shutdown, requests in
/// flight get the grace period, idle and slow connections end at once. HTTP/1.1 only, as on
/// every adapter. The peer address is passed on for rate limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Api,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = api.connections();
    let app = TowerToHyperService::new(router(api));
    reset_api::serve_connections(listener, connections, shutdown, move |io, peer, conn| {
        let app = app.clone();
        let service = service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let in_flight = conn.request();
            let answer = app.call(req);
            async move {
                let answer = answer.await;
                drop(in_flight);
                answer
            }
        });
        async move {
            // The header deadline is the wrapper's, the same on every adapter.
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .header_read_timeout(None)
                .serve_connection(TokioIo::new(io), service)
                .await;
        }
    })
    .await
}

/// Every route of the API, as one axum router; nest it under any prefix.
pub fn router(api: Api) -> Router {
    Router::new().fallback(handle).with_state(api)
}

async fn handle(State(api): State<Api>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let body = match api
        .read_body(parts.uri.path(), body.into_data_stream())
        .await
    {
        Ok(body) => body,
        Err(late) => return into_response(late),
    };
    let request = ApiRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body,
        peer,
    };
    into_response(api.handle(request).await)
}

fn into_response(r: ApiResponse) -> Response {
    let mut response = Response::new(AxumBody::from(r.body));
    *response.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in r.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .append(HeaderName::from_static(name), value);
        }
    }
    response
}
