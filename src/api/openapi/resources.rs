//! The resources with the standard surface (list, create, read, replace, delete, history), as the router registers them.

use super::*;
use crate::api::{bindings, hosts, ip_addresses, networks, ports, services};
use crate::api::{service_types, subnets, tags};

/// One resource with the standard surface of `api::resource`.
pub(super) struct Surface {
    pub(super) base: &'static str,
    /// A deprecated path that serves the same operations.
    pub(super) alias: Option<&'static str>,
    pub(super) tag: &'static str,
    /// For operation ids: "network", "ip_address".
    pub(super) one: &'static str,
    /// For summaries: "a network", "an IP address".
    pub(super) noun: &'static str,
    pub(super) record: fn(&mut Doc) -> String,
    pub(super) input: fn(&mut Doc) -> String,
    /// Whether ids in the path are UUIDs (service types use their name).
    pub(super) uuid_ids: bool,
    pub(super) order_by: &'static [&'static str],
    pub(super) filters: &'static [(&'static str, Filter, &'static str)],
    /// What may write: the role and any extra rule.
    pub(super) write: &'static str,
    /// Keeps every state: `at=` on reads, and `/{id}/history`.
    pub(super) versioned: bool,
}

#[derive(Clone, Copy)]
pub(super) enum Filter {
    Uuid,
    Uuids,
    Text,
    Texts,
    Flag,
    /// `include=children`.
    Children,
}

pub(super) const TAGS_FILTER: (&str, Filter, &str) = (
    "tag_ids",
    Filter::Uuids,
    "Only objects with any of these tags (repeat the parameter or separate with commas).",
);

pub(super) const IDS_FILTER: (&str, Filter, &str) = ("ids", Filter::Uuids, "Only these ids.");

pub(super) const NETWORK_FILTER: (&str, Filter, &str) =
    ("network_id", Filter::Uuid, "Only in this network.");

pub(super) const HOST_FILTER: (&str, Filter, &str) =
    ("host_id", Filter::Uuid, "Only on this host.");

pub(super) const STALE_FILTER: (&str, Filter, &str) = (
    "stale",
    Filter::Flag,
    "Only (true) or never (false) what discovery created and has not seen for \
     PORTOLAN_STALE_AFTER_HOURS.",
);

pub(super) const TEXT_FILTER: (&str, Filter, &str) = (
    "q",
    Filter::Text,
    "Case-insensitive substring of the name (and hostname or description where there is one).",
);

pub(super) fn schema_of<T: ToSchema>(doc: &mut Doc) -> String {
    doc.add_schema::<T>()
}

pub(super) const RESOURCES: &[Surface] = &[
    Surface {
        base: "/api/v1/networks",
        alias: None,
        tag: "Networks",
        one: "network",
        noun: "a network",
        record: schema_of::<db::networks::Network>,
        input: schema_of::<networks::NetworkBody>,
        uuid_ids: true,
        order_by: networks::ORDER_BY,
        filters: &[IDS_FILTER, TAGS_FILTER, TEXT_FILTER],
        write: "Admin; keys scoped to networks may not write networks.",
        versioned: false,
    },
    Surface {
        base: "/api/v1/subnets",
        alias: None,
        tag: "Subnets",
        one: "subnet",
        noun: "a subnet",
        record: schema_of::<db::subnets::Subnet>,
        input: schema_of::<subnets::SubnetBody>,
        uuid_ids: true,
        order_by: subnets::ORDER_BY,
        filters: &[NETWORK_FILTER],
        write: "Member, in the subnet's network.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/hosts",
        alias: None,
        tag: "Hosts",
        one: "host",
        noun: "a host",
        record: schema_of::<db::hosts::Host>,
        input: schema_of::<hosts::HostBody>,
        uuid_ids: true,
        order_by: hosts::ORDER_BY,
        filters: &[
            STALE_FILTER,
            NETWORK_FILTER,
            IDS_FILTER,
            TAGS_FILTER,
            TEXT_FILTER,
            (
                "include",
                Filter::Children,
                "children (the default): each host with its ip_addresses, ports and services, \
                 as a single read; ip_addresses: the lighter entry, with addresses only.",
            ),
        ],
        write: "Member, in the host's network.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/ip-addresses",
        alias: Some("/api/v1/interfaces"),
        tag: "IP addresses",
        one: "ip_address",
        noun: "an IP address",
        record: schema_of::<db::ip_addresses::IpAddress>,
        input: schema_of::<ip_addresses::IpAddressBody>,
        uuid_ids: true,
        order_by: ip_addresses::ORDER_BY,
        filters: &[
            HOST_FILTER,
            ("subnet_id", Filter::Uuid, "Only in this subnet."),
            NETWORK_FILTER,
        ],
        write: "Member, in the host's network.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/ports",
        alias: None,
        tag: "Ports",
        one: "port",
        noun: "a port",
        record: schema_of::<db::ports::Port>,
        input: schema_of::<ports::PortBody>,
        uuid_ids: true,
        order_by: ports::ORDER_BY,
        filters: &[STALE_FILTER, HOST_FILTER, NETWORK_FILTER],
        write: "Member, in the host's network.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/tags",
        alias: None,
        tag: "Tags",
        one: "tag",
        noun: "a tag",
        record: schema_of::<db::tags::Tag>,
        input: schema_of::<tags::TagBody>,
        uuid_ids: true,
        order_by: tags::ORDER_BY,
        filters: &[TEXT_FILTER],
        write: "Admin; keys scoped to networks may not write tags.",
        versioned: false,
    },
    Surface {
        base: "/api/v1/service-types",
        alias: None,
        tag: "Service types",
        one: "service_type",
        noun: "a service type",
        record: schema_of::<db::service_types::ServiceType>,
        input: schema_of::<service_types::ServiceTypeBody>,
        uuid_ids: false,
        order_by: service_types::ORDER_BY,
        filters: &[
            (
                "builtin",
                Filter::Flag,
                "Only built-in (true) or only custom (false) types.",
            ),
            ("category", Filter::Text, "Only this category."),
            TEXT_FILTER,
        ],
        write: "Admin; built-in types cannot be changed or deleted.",
        versioned: false,
    },
    Surface {
        base: "/api/v1/services",
        alias: None,
        tag: "Services",
        one: "service",
        noun: "a service",
        record: schema_of::<db::services::Service>,
        input: schema_of::<services::ServiceBody>,
        uuid_ids: true,
        order_by: services::ORDER_BY,
        filters: &[
            STALE_FILTER,
            NETWORK_FILTER,
            HOST_FILTER,
            IDS_FILTER,
            TAGS_FILTER,
            (
                "service_definition",
                Filter::Text,
                "Only of this service type.",
            ),
            TEXT_FILTER,
        ],
        write: "Member, in the host's network. Bindings follow the binding rules.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/bindings",
        alias: None,
        tag: "Bindings",
        one: "binding",
        noun: "a binding",
        record: schema_of::<db::bindings::Binding>,
        input: schema_of::<bindings::BindingBody>,
        uuid_ids: true,
        order_by: bindings::ORDER_BY,
        filters: &[
            STALE_FILTER,
            ("service_id", Filter::Uuid, "Only of this service."),
            NETWORK_FILTER,
            ("port_id", Filter::Uuid, "Only on this port."),
            ("ip_address_id", Filter::Uuid, "Only on this IP address."),
            (
                "interface_id",
                Filter::Uuid,
                "Deprecated alias of ip_address_id.",
            ),
            HOST_FILTER,
        ],
        write: "Member, in the service's network. Bindings follow the binding rules.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/dependencies",
        alias: None,
        tag: "Dependencies",
        one: "dependency",
        noun: "a dependency",
        record: schema_of::<db::dependencies::Dependency>,
        input: schema_of::<crate::api::dependencies::DependencyBody>,
        uuid_ids: true,
        order_by: crate::api::dependencies::ORDER_BY,
        filters: &[
            NETWORK_FILTER,
            (
                "service_id",
                Filter::Uuid,
                "Only dependencies this service is a member of.",
            ),
            TAGS_FILTER,
            TEXT_FILTER,
        ],
        write: "Member, in the dependency's network. Members: at least two services of that \
                network, each once; a binding must be its member's service's.",
        versioned: true,
    },
];
