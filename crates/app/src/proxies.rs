//! The client's address behind reverse proxies. `X-Forwarded-For` is a list each proxy appends to: its leftmost
//! entries are whatever the client wrote. Only the hops added by proxies we trust can be believed, so the client
//! is the **rightmost address that is not a trusted proxy**, read from the right, starting from the socket peer.

use std::net::IpAddr;

/// One trusted address or network (`192.0.2.10`, `10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().map_err(|_| {
            format!("« {text} » n'est pas une adresse IP ni un réseau (10.0.0.0/8)")
        })?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("« {text} » : la longueur du préfixe va de 0 à {max}"))?,
        };
        Ok(Self { address, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.address, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 peer seen through an IPv6 socket (`::ffff:192.0.2.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` hops are believed (`server.trusted_proxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| Network::parse(entry.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client: the peer itself unless it is a trusted proxy; then, walking `forwarded_for` (every
    /// `X-Forwarded-For` header in order) from the right, the first hop that is not trusted. A hop that is not
    /// an address stops the walk at the last trusted one: nothing left of it can be believed.
    pub fn client<'a>(&self, peer: IpAddr, forwarded_for: impl Iterator<Item = &'a str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .flat_map(|header| header.split(','))
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>().map(canonical) else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let private = Network::parse("10.0.0.0/8").unwrap();
        assert!(private.contains(ip("10.200.3.4")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(Network::parse("::1").unwrap().contains(ip("::1")));
        assert!(Network::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(Network::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("203.0.113.9")));
        assert!(Network::parse("127.0.0.1")
            .unwrap()
            .contains(ip("::ffff:127.0.0.1")));
        assert!(Network::parse("10.0.0.0/33")
            .unwrap_err()
            .contains("0 à 32"));
        assert!(Network::parse("proxy.local")
            .unwrap_err()
            .contains("proxy.local"));
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let proxies = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).unwrap();
        let peer = ip("127.0.0.1");
        // The client forged a first hop; nginx appended the real address.
        let forged = ["6.6.6.6, 203.0.113.7"];
        assert_eq!(proxies.client(peer, forged.into_iter()), ip("203.0.113.7"));
        // Two proxies of ours in a row, two headers.
        let chained = ["1.2.3.4", "198.51.100.2, 10.1.1.1"];
        assert_eq!(
            proxies.client(peer, chained.into_iter()),
            ip("198.51.100.2")
        );
        // A peer that is not a trusted proxy is the client, whatever it claims.
        assert_eq!(
            proxies.client(ip("203.0.113.50"), ["9.9.9.9"].into_iter()),
            ip("203.0.113.50")
        );
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            proxies.client(peer, ["<script>, 10.2.2.2"].into_iter()),
            ip("10.2.2.2")
        );
        // No header: the proxy itself.
        assert_eq!(proxies.client(peer, std::iter::empty()), peer);
        // No trusted proxy at all: the header is never read.
        assert_eq!(
            TrustedProxies::default().client(peer, forged.into_iter()),
            peer
        );
    }
}
