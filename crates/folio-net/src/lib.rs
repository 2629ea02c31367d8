/*!
Where Folio may send a request that a caller asked for.

The HTTP service's webhooks and the RunPod worker's `file_url` make Folio connect wherever a
request says: server-side request forgery, if the address is loopback, a private network, or the
cloud metadata service at 169.254.169.254. Both front doors classify addresses with one function,
[`is_public`].

[`PublicOnlyResolver`] enforces the rule at the connection itself: it is the name resolver of a
`ureq` agent, so the addresses it checks are the addresses the agent connects to (a name that
resolves to a public address at a check and to a private one at the connection, DNS rebinding,
cannot slip between the two), and every redirect hop is resolved, and checked, through it too.

# Scope

Address classification only; which hosts a front door allows beyond that (allow lists, turning
the feature off) is the front door's decision. The resolver plugs into `ureq`'s `unversioned`
resolver interface, which `ureq` does not cover by semver: the workspace pins `ureq` in
`Cargo.lock`, and this crate's tests fail if the interface changes behaviour.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Whether an address is reachable on the public internet (the unstable `IpAddr::is_global`,
/// spelled out): not loopback, private (RFC 1918, IPv6 unique local), link-local (cloud metadata
/// at 169.254.169.254), shared (CGNAT 100.64/10), unspecified, broadcast, multicast,
/// documentation, benchmarking, reserved, or the NAT64 prefix; an IPv4-mapped IPv6 address is
/// judged as its IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let [first, second, ..] = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first == 0x2001 && second == 0x0db8) // documentation
                || (first == 0x0064 && second == 0xff9b)) // NAT64: reaches IPv4 addresses unchecked
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// A host that resolved to an address [`PublicOnlyResolver`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The host as the URL names it.
    pub host: String,
    /// The first non-public address it resolved to.
    pub addr: IpAddr,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.trim_matches(['[', ']']) == self.addr.to_string() {
            write!(f, "{} is not a public address", self.addr)
        } else {
            write!(
                f,
                "{} resolves to {}, which is not a public address",
                self.host, self.addr
            )
        }
    }
}

/// A `ureq` resolver that resolves as `ureq` does, then refuses the host when any address it
/// resolves to is not [public](is_public). The refusal is remembered ([`PublicOnlyResolver::refused`])
/// so the caller can explain it, since `ureq` reports it only as an I/O error.
#[derive(Debug, Clone)]
pub struct PublicOnlyResolver {
    refused: Arc<Mutex<Option<Refused>>>,
    /// [`is_public`]; tests put a rule here that loopback addresses can exercise.
    allowed: fn(IpAddr) -> bool,
}

impl Default for PublicOnlyResolver {
    fn default() -> PublicOnlyResolver {
        PublicOnlyResolver {
            refused: Arc::default(),
            allowed: is_public,
        }
    }
}

impl PublicOnlyResolver {
    /// A resolver with nothing refused yet.
    pub fn new() -> PublicOnlyResolver {
        PublicOnlyResolver::default()
    }

    /// An agent that connects only to public addresses, with `config`. The config should turn
    /// proxies off (`.proxy(None)`): through a proxy, the address resolved and checked is the
    /// proxy's, not the target's.
    pub fn agent(&self, config: Config) -> ureq::Agent {
        ureq::Agent::with_parts(config, DefaultConnector::default(), self.clone())
    }

    /// The last refusal, if a request through this resolver was refused.
    pub fn refused(&self) -> Option<Refused> {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Resolver for PublicOnlyResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        let bad = addrs
            .iter()
            .map(SocketAddr::ip)
            .find(|ip| !(self.allowed)(*ip));
        let Some(addr) = bad else {
            return Ok(addrs);
        };
        let refused = Refused {
            host: uri.host().unwrap_or_default().to_string(),
            addr,
        };
        tracing::info!(%refused, "refusing a connection to a non-public address");
        let message = refused.to_string();
        *self.refused.lock().unwrap_or_else(|p| p.into_inner()) = Some(refused);
        Err(ureq::Error::Io(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            message,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_recognised() {
        for bad in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b::a00:1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let ip: IpAddr = bad.parse().unwrap();
            assert!(!is_public(ip), "{bad} must not be public");
        }
        for good in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = good.parse().unwrap();
            assert!(is_public(ip), "{good} is public");
        }
    }

    #[test]
    fn the_resolver_refuses_loopback_before_connecting_and_says_why() {
        // Something listens, so a refusal cannot be mistaken for a failed connection.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let resolver = PublicOnlyResolver::new();
        let agent = resolver.agent(
            ureq::Agent::config_builder()
                .proxy(None)
                .timeout_global(Some(std::time::Duration::from_secs(5)))
                .build(),
        );
        for url in [
            format!("http://127.0.0.1:{port}/x"),
            format!("http://localhost:{port}/x"),
        ] {
            let err = agent.get(&url).call().unwrap_err();
            assert!(
                err.to_string().contains("not a public address"),
                "{url}: {err}"
            );
            let refused = resolver.refused().expect("the refusal is remembered");
            assert!(refused.addr.is_loopback(), "{refused:?}");
        }
        listener.set_nonblocking(true).unwrap();
        assert!(
            listener.accept().is_err(),
            "no connection may reach the listener"
        );
    }

    #[test]
    fn redirect_hops_are_resolved_through_it_too() {
        use std::io::{Read, Write};
        // With only 127.0.0.1 allowed, a server there that redirects to 127.0.0.2 stands for a
        // public host that redirects into the private network.
        let only_first = PublicOnlyResolver {
            allowed: |ip| ip == IpAddr::V4(Ipv4Addr::LOCALHOST),
            ..PublicOnlyResolver::default()
        };
        let inner = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        let inner_port = inner.local_addr().unwrap().port();
        let outer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let outer_url = format!(
            "http://127.0.0.1:{}/doc",
            outer.local_addr().unwrap().port()
        );
        // Non-blocking with a deadline: a client that never connects fails the test, not hangs it.
        outer.set_nonblocking(true).unwrap();
        let server = std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            let mut conn = loop {
                match outer.accept() {
                    Ok((conn, _)) => break conn,
                    Err(_) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(std::time::Duration::from_millis(10))
                    }
                    Err(_) => return false,
                }
            };
            conn.set_nonblocking(false).unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let answer = format!(
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{inner_port}/secret\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            conn.write_all(answer.as_bytes()).unwrap();
            true
        });
        let agent = only_first.agent(
            ureq::Agent::config_builder()
                .proxy(None)
                .max_redirects(5)
                .timeout_global(Some(std::time::Duration::from_secs(5)))
                .build(),
        );
        let err = agent.get(&outer_url).call().unwrap_err();
        assert!(server.join().unwrap(), "the first hop was allowed: {err}");
        assert!(err.to_string().contains("not a public address"), "{err}");
        let refused = only_first.refused().expect("the hop was refused");
        assert_eq!(refused.addr, "127.0.0.2".parse::<IpAddr>().unwrap());
        inner.set_nonblocking(true).unwrap();
        assert!(
            inner.accept().is_err(),
            "the redirect target was never reached"
        );
    }
}
