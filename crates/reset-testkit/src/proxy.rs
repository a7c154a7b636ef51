//! A TCP proxy between the server and its database that can cut every connection and refuse
//! new ones, then come back on the same port: a real outage, no mock store.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// A running proxy to `target`.
pub struct Proxy {
    /// The loopback port the proxy listens on (the same after `cut` and `restore`).
    pub port: u16,
    target: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards every connection to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let mut proxy = Self {
            port: crate::process::free_port(),
            target,
            task: None,
        };
        proxy.restore().await;
        proxy
    }

    /// `url` with its `host:port` replaced by the proxy's.
    pub fn route(&self, url: &str) -> String {
        let target = format!("{}:{}", self.target.ip(), self.target.port());
        url.replacen(&target, &format!("127.0.0.1:{}", self.port), 1)
    }

    /// The outage: open connections are cut and new ones refused (the port closes).
    pub fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// The end of the outage: listens again on the same port.
    pub async fn restore(&mut self) {
        self.cut();
        let mut listener = None;
        for _ in 0..100 {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let listener = listener.unwrap_or_else(|| panic!("proxy: port {} stays busy", self.port));
        let target = self.target;
        self.task = Some(tokio::spawn(async move {
            // The forwards live in the set, so cutting the proxy ends them too.
            let mut forwards = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                forwards.spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        }));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}
