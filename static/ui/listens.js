// Where a service listens, as a person reads it: "18080/tcp on 127.0.0.20", "443/tcp on all",
// "127.0.0.20" for an address bound without a port. `host` carries its ports and addresses.
export function listensOn(binding, host) {
  const port = binding.port_id ? (host.ports || []).find((p) => p.id === binding.port_id) : null;
  const ip = binding.ip_address_id ? (host.ip_addresses || []).find((i) => i.id === binding.ip_address_id) : null;
  if (!port) return ip ? ip.ip_address : "?";
  return port.number + "/" + port.protocol.toLowerCase() + " on " + (binding.ip_address_id ? (ip ? ip.ip_address : "?") : "all");
}
