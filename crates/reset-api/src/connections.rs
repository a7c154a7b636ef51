//! Slow, idle and stuck clients: one set of deadlines and one connection cap, kept here so that
//! axum, actix-web and warp behave alike (the frameworks' own timers differ: actix answers 408
//! to a slow first request and has no header deadline after it, hyper has no idle deadline).
//!
//! An adapter's `serve` wraps every accepted socket in [`Guarded`], which ends the connection
//! (the server reads end-of-stream, so it closes without answering) when
//! - a request's headers have not arrived within `header_timeout` (counted from the
//!   connection's start, or from the first byte of a later request);
//! - it has been idle between requests for `keepalive`;
//! - the server shuts down and the connection has no request in a handler;
//!
//! and fails its writes (the framework then drops it) when the client has taken none of a
//! response for `write_timeout`: a client that pipelines requests for large answers and never
//! reads is never *read* again, so only a deadline on the write side ends it. One client
//! address holds at most `max_connections_per_ip` connections; past it a new one is closed at
//! once, so that one address cannot hold the whole cap.
//!
//! The handler marks a request as started with [`Conn::request`] (the guard it returns marks
//! the response ready when dropped); the request body is read within `body_timeout` by
//! [`Api::read_body`](crate::Api::read_body), which answers 408 (`connection: close`, in the
//! shape of the route's dialect) when it is not.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, futures::OwnedNotified, watch};
use tokio::time::{Instant, Sleep};

use crate::problem::Problem;
use crate::response::ApiResponse;

/// File descriptors kept back from the connection cap, for the database pool, the mail
/// transport, logs and the listener.
const RESERVED_FDS: usize = 64;

/// How long a client may take, how many may be connected, how long a shutdown may last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// A request's headers must arrive within this (from the connection's start, or from the
    /// first byte of a later request on it).
    pub header_timeout: Duration,
    /// A request's body must arrive within this, from the end of its headers (else 408).
    pub body_timeout: Duration,
    /// An idle connection between two requests is closed after this.
    pub keepalive: Duration,
    /// A connection whose client takes none of a response for this long is closed.
    pub write_timeout: Duration,
    /// At most this many connections at once; past it, new ones wait in the listen backlog.
    pub max_connections: usize,
    /// At most this many connections from one client address (0: no such cap); past it a new
    /// one is closed at once. The trusted proxies are exempt ([`crate::Api::connections`]).
    pub max_connections_per_ip: usize,
    /// On shutdown, requests in handlers get this long to finish before their connections are
    /// cut.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(15),
            keepalive: Duration::from_secs(30),
            write_timeout: Duration::from_secs(15),
            max_connections: default_max_connections(),
            max_connections_per_ip: 64,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// The process's soft limit of open files (from `/proc/self/limits`) less what the database
/// pool and the mail transport need, at least 64; 960 where the limit cannot be read.
pub fn default_max_connections() -> usize {
    static CAP: OnceLock<usize> = OnceLock::new();
    *CAP.get_or_init(|| {
        let soft = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|limits| {
                let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
                let soft = line.split_whitespace().nth(3)?;
                Some(if soft == "unlimited" {
                    usize::MAX
                } else {
                    soft.parse().ok()?
                })
            })
            .unwrap_or(1024);
        soft.saturating_sub(RESERVED_FDS).max(RESERVED_FDS)
    })
}

/// The body did not arrive within `body_timeout`: v1's 408, and the connection is closed after
/// it (a dialect's routes answer in the dialect's shape: [`Api::body_timeout_response`](
/// crate::Api::body_timeout_response)).
pub fn body_timeout_response() -> ApiResponse {
    Problem::new(
        crate::problem::REQUEST_TIMEOUT,
        "The request body did not arrive in time.",
    )
    .into_response()
    .with_header("connection", "close")
}

/// The connections of one server: its limits, its cap, its shutdown. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Connections {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    limits: ServeLimits,
    slots: Arc<Semaphore>,
    /// Connections open now.
    live: watch::Sender<usize>,
    closing: AtomicBool,
    close: Arc<Notify>,
    /// Connections open now per client address (only while the per-address cap is on).
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Peers the per-address cap does not apply to (the trusted proxies).
    exempt: Vec<ipnet::IpNet>,
}

impl Connections {
    /// The bookkeeping for one server under `limits`, with no peer exempt from the per-address
    /// cap.
    pub fn new(limits: ServeLimits) -> Self {
        Self::with_exempt(limits, Vec::new())
    }

    /// The same limits with `peers` exempt from the per-address cap (see
    /// [`Api::connections`](crate::Api::connections)).
    #[must_use]
    pub fn exempting(self, peers: Vec<ipnet::IpNet>) -> Self {
        Self::with_exempt(self.shared.limits, peers)
    }

    fn with_exempt(limits: ServeLimits, exempt: Vec<ipnet::IpNet>) -> Self {
        Self {
            shared: Arc::new(Shared {
                limits,
                slots: Arc::new(Semaphore::new(limits.max_connections.max(1))),
                live: watch::Sender::new(0),
                closing: AtomicBool::new(false),
                close: Arc::new(Notify::new()),
                per_ip: Mutex::new(HashMap::new()),
                exempt,
            }),
        }
    }

    /// The deadlines and caps these connections are held to.
    pub fn limits(&self) -> &ServeLimits {
        &self.shared.limits
    }

    /// Waits for a free place under the cap. Taken before `accept`, so that at the cap new
    /// connections wait in the listen backlog instead of being accepted and starved.
    pub async fn slot(&self) -> Slot {
        Slot {
            _permit: self.shared.slots.clone().acquire_owned().await.ok(),
        }
    }

    /// A place for one more connection from `ip`, or `None` when that address already holds
    /// `max_connections_per_ip` (the caller closes the connection). Given back when dropped.
    pub fn admit(&self, ip: IpAddr) -> Option<PeerSlot> {
        let cap = self.shared.limits.max_connections_per_ip;
        if cap == 0 || self.shared.exempt.iter().any(|net| net.contains(&ip)) {
            return Some(PeerSlot(None));
        }
        let ip = canonical(ip);
        let mut per_ip = self.shared.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let open = per_ip.entry(ip).or_insert(0);
        if *open >= cap {
            metrics::counter!("reset_connections_refused_per_ip_total").increment(1);
            return None;
        }
        *open += 1;
        Some(PeerSlot(Some((self.shared.clone(), ip))))
    }

    /// Wraps an accepted connection in its deadlines; `slot` and `peer` are given back when it
    /// closes. The [`Conn`] goes to the connection's handler, to mark requests started and
    /// answered.
    pub fn guard<T>(&self, io: T, slot: Option<Slot>, peer: PeerSlot) -> (Guarded<T>, Conn) {
        let conn = Conn(Arc::new(Mutex::new(ConnState::default())));
        self.shared.live.send_modify(|n| *n += 1);
        let limits = &self.shared.limits;
        let guarded = Guarded {
            io,
            conn: conn.clone(),
            shared: self.shared.clone(),
            _slot: slot,
            _peer: peer,
            phase: Phase::Head,
            deadline: Some(Instant::now() + limits.header_timeout),
            seen_done: 0,
            sleep: Box::pin(tokio::time::sleep(limits.header_timeout)),
            close: Box::pin(self.shared.close.clone().notified_owned()),
            closing: self.shared.closing.load(Ordering::SeqCst),
            ended: false,
            write_stalled: None,
            write_sleep: Box::pin(tokio::time::sleep(limits.write_timeout)),
        };
        (guarded, conn)
    }

    /// Shutdown: idle and slow connections end now, requests in handlers get the grace
    /// period. Returns how many connections were still open at its end (the caller cuts them).
    pub async fn shut_down(&self) -> usize {
        self.shared.closing.store(true, Ordering::SeqCst);
        self.shared.close.notify_waiters();
        let mut live = self.shared.live.subscribe();
        let _ = tokio::time::timeout(
            self.shared.limits.shutdown_grace,
            live.wait_for(|n| *n == 0),
        )
        .await;
        let cut = *live.borrow();
        tracing::info!(
            cut,
            grace_secs = self.shared.limits.shutdown_grace.as_secs_f64(),
            "shutdown: idle and slow connections closed; connections still open after the grace period are cut"
        );
        cut
    }
}

/// A place under the connection cap, held while the connection is open.
#[derive(Debug)]
pub struct Slot {
    _permit: Option<OwnedSemaphorePermit>,
}

/// A place under the per-address cap, held while the connection is open.
pub struct PeerSlot(Option<(Arc<Shared>, IpAddr)>);

impl std::fmt::Debug for PeerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerSlot")
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        if let Some((shared, ip)) = self.0.take() {
            let mut per_ip = shared.per_ip.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(open) = per_ip.get_mut(&ip) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
    }
}

/// One key per client: an IPv4-mapped IPv6 address is its IPv4 address, and an IPv6 client is
/// its /64 (one host usually holds a whole /64, and could otherwise take a fresh address per
/// connection).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
        v4 => v4,
    }
}

/// Serves `listener` until `shutdown` resolves under `connections` (see
/// [`Api::connections`](crate::Api::connections)): at most `max_connections` connections,
/// each wrapped in its deadlines and handed to `serve_one` (the framework's connection driver),
/// on a task of its own. On shutdown: accepting stops, the connections end as
/// [`Connections::shut_down`] says, and those left at the end of the grace are cut.
pub async fn serve_connections<F, Fut>(
    listener: TcpListener,
    connections: Connections,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mut serve_one: F,
) -> io::Result<()>
where
    F: FnMut(Guarded<TcpStream>, SocketAddr, Conn) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = connections.slot() => slot,
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors or a connection reset before accept: wait a moment
                // rather than spin.
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(peer_slot) = connections.admit(peer.ip()) else {
            // This address holds its share of the cap already: closed unanswered.
            drop(stream);
            continue;
        };
        let (io, conn) = connections.guard(stream, Some(slot), peer_slot);
        tasks.spawn(serve_one(io, peer, conn));
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    connections.shut_down().await;
    tasks.shutdown().await;
    Ok(())
}

/// One connection as its handler sees it. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Conn(Arc<Mutex<ConnState>>);

#[derive(Debug, Default)]
struct ConnState {
    /// Requests in a handler now.
    busy: usize,
    /// Responses made so far, and when the last was.
    done: u64,
    done_at: Option<Instant>,
    /// The task reading the connection: woken when a response is ready, since the
    /// connection's deadlines (and the shutdown) apply again from then on.
    reader: Option<Waker>,
}

impl Conn {
    /// A request reached its handler; the connection is busy until the guard is dropped.
    pub fn request(&self) -> InFlight {
        self.state().busy += 1;
        InFlight(self.clone())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ConnState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A request in its handler; dropping it marks the response ready.
#[derive(Debug)]
pub struct InFlight(Conn);

impl Drop for InFlight {
    fn drop(&mut self) {
        let reader = {
            let mut s = self.0.state();
            s.busy = s.busy.saturating_sub(1);
            s.done += 1;
            s.done_at = Some(Instant::now());
            s.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request's headers.
    Head,
    /// A request is in its handler.
    Busy,
    /// Between requests.
    Idle,
}

/// An accepted connection with its deadlines (see the module documentation).
pub struct Guarded<T> {
    io: T,
    conn: Conn,
    shared: Arc<Shared>,
    _slot: Option<Slot>,
    _peer: PeerSlot,
    phase: Phase,
    deadline: Option<Instant>,
    seen_done: u64,
    sleep: Pin<Box<Sleep>>,
    close: Pin<Box<OwnedNotified>>,
    closing: bool,
    /// A deadline passed: the connection reads end-of-stream from now on.
    ended: bool,
    /// Since when the client has taken none of what the server writes.
    write_stalled: Option<Instant>,
    write_sleep: Pin<Box<Sleep>>,
}

impl<T> std::fmt::Debug for Guarded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded")
            .field("phase", &self.phase)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Guarded<T> {
    fn drop(&mut self) {
        self.shared.live.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl<T> Guarded<T> {
    /// The wrapped connection.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The connection's handle, for its handler (see [`Conn::request`]).
    pub fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// Whether the connection must end now; otherwise arranges to be woken when it must.
    fn must_end(&mut self, cx: &mut Context<'_>) -> bool {
        if self.ended {
            return true;
        }
        let limits = self.shared.limits;
        {
            let mut s = self.conn.state();
            match &mut s.reader {
                Some(w) if w.will_wake(cx.waker()) => {}
                reader => *reader = Some(cx.waker().clone()),
            }
            if s.busy > 0 {
                self.phase = Phase::Busy;
                self.deadline = None;
            } else if s.done != self.seen_done {
                self.seen_done = s.done;
                self.phase = Phase::Idle;
                self.deadline = Some(s.done_at.unwrap_or_else(Instant::now) + limits.keepalive);
            }
        }
        if !self.closing && self.close.as_mut().poll(cx).is_ready() {
            self.closing = true;
        }
        let deadline_passed = match self.deadline {
            Some(at) if at <= Instant::now() => true,
            Some(at) => {
                if self.sleep.deadline() != at {
                    self.sleep.as_mut().reset(at);
                }
                self.sleep.as_mut().poll(cx).is_ready()
            }
            None => false,
        };
        self.ended = (self.closing && self.phase != Phase::Busy) || deadline_passed;
        self.ended
    }
}

impl<T> Guarded<T> {
    /// A write's outcome under the write deadline: progress clears the stall; a write that
    /// cannot go on starts it (or keeps it), and once it has lasted `write_timeout` the write
    /// fails, so that the framework drops the connection.
    fn written<R>(
        &mut self,
        cx: &mut Context<'_>,
        outcome: Poll<io::Result<R>>,
        progressed: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        match &outcome {
            Poll::Ready(Ok(r)) if progressed(r) => self.write_stalled = None,
            Poll::Pending => {
                let since = *self.write_stalled.get_or_insert_with(Instant::now);
                let at = since + self.shared.limits.write_timeout;
                if self.write_sleep.deadline() != at {
                    self.write_sleep.as_mut().reset(at);
                }
                if at <= Instant::now() || self.write_sleep.as_mut().poll(cx).is_ready() {
                    self.ended = true;
                    metrics::counter!("reset_connections_write_timeout_total").increment(1);
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client took none of the response within the write timeout",
                    )));
                }
            }
            Poll::Ready(_) => {}
        }
        outcome
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.must_end(cx) {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        if this.phase == Phase::Idle && buf.filled().len() > before {
            this.phase = Phase::Head;
            this.deadline = Some(Instant::now() + this.shared.limits.header_timeout);
        }
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let outcome = Pin::new(&mut this.io).poll_write(cx, buf);
        this.written(cx, outcome, |n| *n > 0)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let outcome = Pin::new(&mut this.io).poll_flush(cx);
        this.written(cx, outcome, |()| false)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let outcome = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.written(cx, outcome, |n| *n > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_per_address_cap_spares_trusted_proxies_and_frees_on_close() {
        let limits = ServeLimits {
            max_connections_per_ip: 1,
            ..ServeLimits::default()
        };
        let c = Connections::new(limits).exempting(vec!["127.0.0.0/8".parse().unwrap()]);
        let (proxy, client) = ("127.0.0.1".parse().unwrap(), "192.0.2.1".parse().unwrap());
        let held = [c.admit(proxy), c.admit(proxy)];
        assert!(
            held.iter().all(Option::is_some),
            "a trusted proxy is not capped"
        );
        let first = c.admit(client);
        assert!(first.is_some());
        assert!(c.admit(client).is_none(), "past the address's share");
        drop(first);
        assert!(
            c.admit(client).is_some(),
            "given back when the connection closes"
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::2".parse().unwrap();
        let _kept = c.admit(v6).unwrap();
        assert!(c.admit(same_64).is_none(), "an IPv6 client is its /64");
    }
}
