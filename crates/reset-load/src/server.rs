//! The server under test: the axum router over a [`DieselStore`], in this process, on a loopback
//! port.

use std::net::SocketAddr;
use std::sync::Arc;

use reset_api::{Api, ApiOptions};
use reset_core::{OsSecretRng, Ports, ResetConfig, ResetService, SecretKey};
use reset_diesel::{DieselStore, PoolOptions};

/// A running server and the handles a run needs beside HTTP.
pub struct Server {
    pub store: Arc<DieselStore>,
    pub service: ResetService,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// Migrates the database at `url` and serves the API over it until the process ends.
pub async fn start(url: &str, config: ResetConfig, options: ApiOptions) -> anyhow::Result<Server> {
    let store = Arc::new(DieselStore::connect(url, PoolOptions::default()).await?);
    store.migrate().await?;
    let ports = Ports::new(store.clone(), store.clone());
    let service = ResetService::new(ports, SecretKey::generate(&OsSecretRng), config)?;
    let api = Api::new(service.clone(), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = reset_axum::router(api).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Server {
        store,
        service,
        base,
    })
}
