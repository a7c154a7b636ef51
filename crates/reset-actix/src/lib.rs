#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use reset_api::{Api, ApiRequest, ApiResponse, read_body};

/// Serves the API at the root of `listener` with one worker per core until `shutdown`
/// resolves, then lets in-flight requests finish (actix's own signal handling is off: the
/// caller owns shutdown).
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Api,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(configure(api.clone())))
            .workers(workers)
            .disable_signals()
            .shutdown_timeout(30)
            .listen(listener.into_std()?)?
            .run();
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.await;
        handle.stop(true).await;
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
    let body = read_body(&mut payload).await;
    let request = ApiRequest {
        method: req.method().as_str().to_owned(),
        path: path_below_mount(&req),
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
        response.append_header((name, value));
    }
    response.body(Bytes::from(r.body.to_vec()))
}
