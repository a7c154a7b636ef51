#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use futures_util::Stream;
use reset_api::{Api, ApiRequest, ApiResponse, read_body};
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use warp::path::Tail;
use warp::{Filter, Rejection};

/// Serves the API at the root of `listener` until `shutdown` resolves, then lets in-flight
/// requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Api,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    warp::serve(routes(api))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
    Ok(())
}

/// Every route of the API as one boxed filter; mount it under any path prefix. The API answers
/// every request that reaches it (404 and 405 included), so nothing is ever rejected.
pub fn routes(api: Api) -> BoxedFilter<(Response<warp::hyper::body::Bytes>,)> {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method()
        .and(warp::path::tail())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
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
    let request = ApiRequest {
        method: method.as_str().to_owned(),
        path: format!("/{}", tail.as_str()),
        query: Some(query).filter(|q| !q.is_empty()),
        headers: headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: read_body(body).await,
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
