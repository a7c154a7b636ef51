//! The client's IP: the socket peer, or `X-Forwarded-For` only when the peer is a trusted proxy.

use std::net::IpAddr;

use ipnet::IpNet;

/// Resolves the client IP. When the peer is trusted, `X-Forwarded-For` is read from the right,
/// skipping trusted proxies; the first untrusted address is the client. A malformed entry
/// stops the walk at the last trusted hop, so a forged header cannot pick an arbitrary IP.
pub fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded_for
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            None => break,
        }
    }
    Some(client)
}

/// An `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|s| s.ip()))
        .or_else(|_| {
            hop.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
        })
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().expect("net")]
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn untrusted_peer_ignores_the_header() {
        assert_eq!(
            client_ip(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &nets()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_peer_uses_the_rightmost_untrusted_hop() {
        let xff = ["6.6.6.6, 198.51.100.7, 10.0.0.2"];
        assert_eq!(
            client_ip(ip("10.0.0.1"), xff.into_iter(), &nets()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn hops_with_ports_and_mapped_peers() {
        let xff = ["198.51.100.7:5678, [2001:db8::1]:443"];
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.1"), xff.into_iter(), &nets()),
            ip("2001:db8::1")
        );
        let xff = ["198.51.100.7:5678"];
        assert_eq!(
            client_ip(ip("10.0.0.1"), xff.into_iter(), &nets()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_stops_the_walk() {
        assert_eq!(
            client_ip(ip("10.0.0.1"), ["1.1.1.1, nonsense"].into_iter(), &nets()),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), std::iter::empty(), &nets()),
            ip("10.0.0.1")
        );
    }
}
