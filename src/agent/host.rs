//! What the host itself knows, read from the kernel: its identity, its interfaces, its
//! listening sockets and their programs, its ARP neighbours. Linux only (`/proc`, `/sys`).

use std::collections::HashMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use serde_json::{json, Value};

fn read_trimmed(path: impl AsRef<Path>) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `host` of a report.
pub fn identity(machine_id: Option<&str>) -> Result<Value, String> {
    let machine_id = match machine_id {
        Some(m) => m.to_string(),
        None => read_trimmed("/etc/machine-id")
            .or_else(|| read_trimmed("/var/lib/dbus/machine-id"))
            .ok_or("no /etc/machine-id: pass --machine-id")?,
    };
    let hostname = read_trimmed("/proc/sys/kernel/hostname").unwrap_or_else(|| "localhost".into());
    let os = fs::read_to_string("/etc/os-release").ok().and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_string())
    });
    let uptime = read_trimmed("/proc/uptime")
        .and_then(|u| u.split('.').next().and_then(|s| s.parse::<u64>().ok()));
    Ok(json!({
        "hostname": hostname, "machine_id": machine_id, "os": os,
        "kernel": read_trimmed("/proc/sys/kernel/osrelease"),
        "agent_version": env!("CARGO_PKG_VERSION"), "uptime_s": uptime,
    }))
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

/// The interfaces with their addresses (`getifaddrs`) and MACs (`/sys/class/net`).
pub fn interfaces(include_loopback: bool) -> Vec<Value> {
    let mut by_name: Vec<(String, Vec<String>, bool)> = Vec::new();
    for (name, ip, prefix, up) in addresses() {
        if is_loopback(ip) && !include_loopback {
            continue;
        }
        let entry = match by_name.iter_mut().find(|(n, _, _)| *n == name) {
            Some(e) => e,
            None => {
                by_name.push((name.clone(), Vec::new(), up));
                by_name.last_mut().expect("just pushed")
            }
        };
        entry.1.push(format!("{ip}/{prefix}"));
    }
    by_name
        .into_iter()
        .map(|(name, addresses, up)| {
            let mac = read_trimmed(format!("/sys/class/net/{name}/address"))
                .filter(|m| m.len() == 17 && m != "00:00:00:00:00:00");
            json!({"name": name, "mac": mac, "addresses": addresses, "up": up})
        })
        .collect()
}

/// `(interface, address, prefix length, up)` of every IPv4 and IPv6 address.
fn addresses() -> Vec<(String, IpAddr, u32, bool)> {
    let mut out = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list that freeifaddrs releases below; every
    // pointer read here comes from that list and is checked for null first.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return out;
        }
        let mut cursor = list;
        while !cursor.is_null() {
            let ifa = &*cursor;
            cursor = ifa.ifa_next;
            if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
                continue;
            }
            let name = std::ffi::CStr::from_ptr(ifa.ifa_name)
                .to_string_lossy()
                .into_owned();
            let up = ifa.ifa_flags & (libc::IFF_UP as u32) != 0;
            let family = i32::from((*ifa.ifa_addr).sa_family);
            let (ip, prefix) = match family {
                libc::AF_INET => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                    let prefix = if ifa.ifa_netmask.is_null() {
                        32
                    } else {
                        let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in);
                        u32::from_be(m.sin_addr.s_addr).count_ones()
                    };
                    (IpAddr::V4(ip), prefix)
                }
                libc::AF_INET6 => {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                    let prefix = if ifa.ifa_netmask.is_null() {
                        128
                    } else {
                        let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in6);
                        m.sin6_addr.s6_addr.iter().map(|b| b.count_ones()).sum()
                    };
                    (IpAddr::V6(ip), prefix)
                }
                _ => continue,
            };
            out.push((name, ip, prefix, up));
        }
        libc::freeifaddrs(list);
    }
    out
}

/// One socket of `/proc/net/{tcp,udp}{,6}`: `(address, port, inode)`.
pub fn parse_socket_line(line: &str, tcp: bool) -> Option<(IpAddr, u16, u64)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
    // TCP: LISTEN (0A). UDP: bound and unconnected (07).
    if *state != if tcp { "0A" } else { "07" } {
        return None;
    }
    let (address, port) = local.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match address.len() {
        8 => IpAddr::V4(Ipv4Addr::from(
            u32::from_str_radix(address, 16).ok()?.swap_bytes(),
        )),
        32 => {
            // Four 32-bit words, each printed in the host's byte order (little-endian here).
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                let word = u32::from_str_radix(&address[i * 8..i * 8 + 8], 16).ok()?;
                chunk.copy_from_slice(&word.swap_bytes().to_be_bytes());
            }
            let v6 = Ipv6Addr::from(bytes);
            match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            }
        }
        _ => return None,
    };
    Some((ip, port, inode.parse().ok()?))
}

/// The owner of each socket inode: `pid -> (name, exe)` through `/proc/<pid>/fd`. Without root,
/// other users' processes stay unknown.
fn socket_owners() -> HashMap<u64, u32> {
    let mut owners = HashMap::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return owners;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = fs::read_link(fd.path()) {
                let target = target.to_string_lossy();
                if let Some(inode) = target
                    .strip_prefix("socket:[")
                    .and_then(|s| s.strip_suffix(']'))
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    owners.entry(inode).or_insert(pid);
                }
            }
        }
    }
    owners
}

/// The container a process runs in, from its cgroup (`docker-<id>.scope`, `/docker/<id>`,
/// `libpod-<id>.scope`).
pub fn container_of_cgroup(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|line| {
        let path = line.rsplit(':').next()?;
        path.split('/').find_map(|segment| {
            let id = segment
                .strip_prefix("docker-")
                .or_else(|| segment.strip_prefix("libpod-"))
                .map(|s| s.trim_end_matches(".scope"))
                .unwrap_or(segment);
            (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_string())
        })
    })
}

/// Listening TCP and bound UDP sockets, each with its program and container when visible.
pub fn listeners(include_loopback: bool) -> Vec<Value> {
    let owners = socket_owners();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (file, tcp) in [
        ("/proc/net/tcp", true),
        ("/proc/net/tcp6", true),
        ("/proc/net/udp", false),
        ("/proc/net/udp6", false),
    ] {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let Some((ip, port, inode)) = parse_socket_line(line, tcp) else {
                continue;
            };
            if is_loopback(ip) && !include_loopback {
                continue;
            }
            if !seen.insert((tcp, ip, port)) {
                continue;
            }
            let pid = owners.get(&inode).copied();
            let process = pid.and_then(|pid| {
                let name = read_trimmed(format!("/proc/{pid}/comm"))?;
                let exe = fs::read_link(format!("/proc/{pid}/exe"))
                    .ok()
                    .map(|p| p.to_string_lossy().into_owned());
                Some(json!({"pid": pid, "name": name, "exe": exe}))
            });
            let container = pid
                .and_then(|pid| fs::read_to_string(format!("/proc/{pid}/cgroup")).ok())
                .and_then(|c| container_of_cgroup(&c));
            out.push(json!({
                "protocol": if tcp { "Tcp" } else { "Udp" }, "address": ip.to_string(),
                "port": port, "process": process, "container_id": container,
            }));
        }
    }
    out
}

/// Complete entries of the ARP table.
pub fn neighbours() -> Vec<Value> {
    let Ok(text) = fs::read_to_string("/proc/net/arp") else {
        return Vec::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (ip, flags, mac, device) = (f.first()?, f.get(2)?, f.get(3)?, f.get(5)?);
            let complete = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()? & 0x2 != 0;
            (complete && *mac != "00:00:00:00:00:00")
                .then(|| json!({"ip": ip, "mac": mac, "device": device}))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_lines_are_read_in_the_kernels_byte_order() {
        let tcp = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0";
        assert_eq!(
            parse_socket_line(tcp, true),
            Some(("127.0.0.1".parse().unwrap(), 8080, 12345))
        );
        assert_eq!(parse_socket_line(tcp, false), None, "UDP wants state 07");
        let established = tcp.replace(" 0A ", " 01 ");
        assert_eq!(parse_socket_line(&established, true), None);
        let v6 = "   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1";
        assert_eq!(
            parse_socket_line(v6, true),
            Some(("::1".parse().unwrap(), 22, 999))
        );
        let mapped = "   2: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A 0 0 0 0 0 7 1";
        assert_eq!(
            parse_socket_line(mapped, true),
            Some(("127.0.0.1".parse().unwrap(), 80, 7))
        );
    }

    #[test]
    fn containers_are_read_from_cgroups_of_both_engines() {
        let id = "a".repeat(64);
        assert_eq!(
            container_of_cgroup(&format!("0::/system.slice/docker-{id}.scope\n")),
            Some(id.clone())
        );
        assert_eq!(
            container_of_cgroup(&format!("12:pids:/docker/{id}\n")),
            Some(id.clone())
        );
        assert_eq!(
            container_of_cgroup(&format!("0::/machine.slice/libpod-{id}.scope")),
            Some(id)
        );
        assert_eq!(container_of_cgroup("0::/user.slice/session-1.scope"), None);
    }
}
