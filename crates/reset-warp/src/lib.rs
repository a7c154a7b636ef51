#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use futures_util::Stream;
use hyper::body::Incoming;
use hyper::service::{Service as _, service_fn};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use reset_api::{Api, ApiRequest, ApiResponse};
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use warp::path::Tail;
use warp::{Filter, Rejection};

/// Serves the API at the root of `listener` until `shutdown` resolves, with the deadlines and
/// connection cap of `api.limits()` (see [`reset_api::connections`]); on shutdown, requests in
/// flight get the grace period, idle and slow connections end at once. HTTP/1.1 only, as on
/// every adapter.
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Api,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = api.connections();
    let app = TowerToHyperService::new(warp::service(routes(api)));
    reset_api::serve_connections(listener, connections, shutdown, move |io, peer, conn| {
        let app = app.clone();
        let service = service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(Peer(peer));
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

/// The peer address as [`serve`] passes it (warp's own is for its own server only).
#[derive(Clone, Copy)]
struct Peer(SocketAddr);

/// Every route of the API as one boxed filter; mount it under any path prefix. The API answers
/// every request that reaches it (404 and 405 included), so nothing is ever rejected.
pub fn routes(api: Api) -> BoxedFilter<(Response<warp::hyper::body::Bytes>,)> {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method()
        .and(warp::path::tail())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::ext::optional::<Peer>())
        .map(
            |method, tail, query, headers, remote: Option<SocketAddr>, ours: Option<Peer>| {
                (method, tail, query, headers, remote.or(ours.map(|p| p.0)))
            },
        )
        .untuple_one()
        .and(warp::body::stream())
        .and(warp::any().map(move || api.clone()))
        .and_then(handle)
        .boxed()
}

async fn handle(
    method: Method,
    tail: Tail,
    query: String,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    body: impl Stream<Item = Result<impl warp::Buf, warp::Error>> + Unpin + Send,
    api: Api,
) -> Result<Response<warp::hyper::body::Bytes>, Rejection> {
    let path = format!("/{}", tail.as_str());
    let body = match api.read_body(&path, body).await {
        Ok(body) => body,
        Err(late) => return Ok(into_response(late)),
    };
    let request = ApiRequest {
        method: method.as_str().to_owned(),
        path,
        query: Some(query).filter(|q| !q.is_empty()),
        headers: headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body,
        peer,
    };
    Ok(into_response(api.handle(request).await))
}

fn into_response(r: ApiResponse) -> Response<warp::hyper::body::Bytes> {
    let mut response = Response::new(r.body);
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
