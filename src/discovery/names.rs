//! Reverse DNS: the name a scan gives a host it finds is its PTR record, when it has one, from
//! the system's resolver or the servers of `PORTOLAN_DNS_SERVERS`.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{Resolver, TokioResolver};

use crate::domain::discovery::Observation;
use crate::domain::text::Hostname;

/// At most this many lookups at once.
const PARALLEL: usize = 32;

fn resolver(servers: &[SocketAddr]) -> Option<TokioResolver> {
    let mut builder = if servers.is_empty() {
        match Resolver::builder_tokio() {
            Ok(b) => b,
            Err(e) => {
                log::warn!("no system resolver for reverse DNS: {e}");
                return None;
            }
        }
    } else {
        let group: Vec<NameServerConfig> = servers
            .iter()
            .map(|s| NameServerConfig::new(*s, Protocol::Udp))
            .collect();
        Resolver::builder_with_config(
            ResolverConfig::from_parts(None, Vec::new(), group),
            TokioConnectionProvider::default(),
        )
    };
    let options = builder.options_mut();
    options.timeout = Duration::from_millis(800);
    options.attempts = 1;
    Some(builder.build())
}

/// Gives each observation without a hostname its PTR name, when one answers. Loopback
/// addresses are not asked (every resolver calls them `localhost`), and a name answered for
/// more than one address of the batch is not used: hosts found by name would merge.
pub async fn name_by_ptr(observations: &mut [Observation], servers: &[SocketAddr]) {
    if !observations
        .iter()
        .any(|o| o.hostname.is_none() && !o.ip.is_loopback())
    {
        return;
    }
    let Some(resolver) = resolver(servers) else {
        return;
    };
    let wanted: Vec<(usize, std::net::IpAddr)> = observations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.hostname.is_none() && !o.ip.is_loopback())
        .map(|(i, o)| (i, o.ip))
        .collect();
    let names: Vec<(usize, Option<String>)> = stream::iter(wanted)
        .map(|(i, ip)| {
            let resolver = &resolver;
            async move {
                let name = resolver.reverse_lookup(ip).await.ok().and_then(|found| {
                    found
                        .iter()
                        .map(|ptr| ptr.0.to_utf8().trim_end_matches('.').to_string())
                        .find(|n| Hostname::parse(n).is_ok())
                });
                (i, name)
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut answered: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for name in names.iter().filter_map(|(_, n)| n.as_ref()) {
        *answered.entry(name.to_lowercase()).or_default() += 1;
    }
    for (i, name) in names {
        if let Some(name) = name.filter(|n| answered[&n.to_lowercase()] == 1) {
            observations[i].hostname = Some(name);
        }
    }
}
