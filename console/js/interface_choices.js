// Network interfaces as pickers and lists name them: the host, the interface's own name, its
// addresses and its role, so a mirror source and a collector's interface are told apart at a
// glance ("web-1 · eth0 · 10.0.0.11 · source · eni-…").
import { nameOf } from './dom.js';

// The agent describes the interfaces it registers as "eth0 on web-1", and a collector's as
// "eth1 on col-1 (tmirror collector: receives VXLAN, a target)".
const REGISTERED = /^(\S+) on (\S+)( \(tmirror collector\b)?/;

export function addressesOf(eni) {
  return [eni.privateIpAddress, ...(eni.ipv6AddressesSet || []).map((a) => a.ipv6Address)]
    .filter(Boolean).join(', ') || '-';
}

// 'collector' (a tmirror collector's receiving interface), 'source' (on a host running the
// agent) or 'appliance' (made with CreateNetworkInterface: a target that only receives).
export function roleOf(eni) {
  const match = REGISTERED.exec(eni.description || '');
  if (match && match[3]) return 'collector';
  return eni.attachment?.instanceId ? 'source' : 'appliance';
}

export function describeInterface(eni) {
  const match = REGISTERED.exec(eni.description || '');
  const named = nameOf(eni);
  const parts = match ? [match[2], match[1]] : [named !== '-' ? named : 'no host'];
  if (match && named !== '-') parts.push(named);
  return [...parts, addressesOf(eni), roleOf(eni), eni.networkInterfaceId].join(' · ');
}

const GROUPS = {
  source: 'Sources (hosts running tmirror agent)',
  collector: 'Collectors (tmirror collect)',
  appliance: 'Other receivers (made with CreateNetworkInterface)',
};

// Select options in groups, the likely role first: [{group, options: [[id, label]]}].
export function interfaceOptions(interfaces, first) {
  const order = [first, ...Object.keys(GROUPS).filter((r) => r !== first)];
  return order.map((role) => ({
    group: GROUPS[role],
    options: interfaces.filter((e) => roleOf(e) === role)
      .map((e) => [e.networkInterfaceId, describeInterface(e)])
      .sort((a, b) => a[1].localeCompare(b[1], 'en', { numeric: true })),
  })).filter((g) => g.options.length > 0);
}
