//! `reset-server healthcheck`: asks the local server's `/readyz` over a plain HTTP/1.1
//! connection, so a container image needs no curl (or shell) for its health check.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The address to call for a server bound to `bind`: itself, or loopback for an unspecified
/// address (`0.0.0.0`, `[::]`).
fn target(bind: &str) -> anyhow::Result<SocketAddr> {
    let mut addr: SocketAddr = bind
        .parse()
        .with_context(|| format!("RESET_BIND is not an address: {bind}"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            Ipv4Addr::LOCALHOST.into()
        } else {
            Ipv6Addr::LOCALHOST.into()
        });
    }
    Ok(addr)
}

/// `Ok` when `GET /readyz` answers 200 within 3 seconds.
pub async fn readyz(bind: &str) -> anyhow::Result<()> {
    let addr = target(bind)?;
    let status = tokio::time::timeout(Duration::from_secs(3), async {
        let mut conn = tokio::net::TcpStream::connect(addr).await?;
        conn.write_all(
            format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
        let mut head = vec![0; 64];
        let n = conn.read(&mut head).await?;
        head.truncate(n);
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head).into_owned())
    })
    .await
    .context("no answer from /readyz within 3 s")?
    .with_context(|| format!("cannot reach {addr}"))?;
    let ok = status
        .split_whitespace()
        .nth(1)
        .is_some_and(|code| code == "200");
    anyhow::ensure!(ok, "not ready: {}", status.lines().next().unwrap_or(""));
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::target;

    #[test]
    fn an_unspecified_bind_is_called_on_loopback() {
        assert_eq!(
            target("0.0.0.0:8080").unwrap().to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(target("[::]:8080").unwrap().to_string(), "[::1]:8080");
        assert_eq!(target("10.0.0.5:80").unwrap().to_string(), "10.0.0.5:80");
        assert!(target("localhost:80").is_err());
    }
}
