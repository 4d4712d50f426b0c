// pcap-filter(7) expressions for one command's own flow, as --pcap attaches
// them to its packet socket: the probes and their answers (addresses, ports,
// ICMP identifier) and the ICMP errors that quote a datagram sent to the
// peer. IPv6 headers are read at fixed offsets (no extension headers: a
// probe carries none), ICMPv4 ones after the IP header as pcap-filter does.
import { parseIPv4, parseIPv6 } from '../packet/addr.js';

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** The quoted datagram (in an ICMP error) was sent to `dst`. */
function quotesDestination(family: 4 | 6, dst: string): string {
  if (family === 4) return `icmp[24:4] == ${hex(parseIPv4(dst)!.readUInt32BE(0))}`;
  // ICMPv6 error: 40 (IPv6) + 8 (ICMPv6 header) + 24 (the quoted destination)
  const b = parseIPv6(dst.split('%')[0]!)!;
  return [0, 4, 8, 12].map((i) => `ip6[${72 + i}:4] == ${hex(b.readUInt32BE(i))}`).join(' and ');
}

/** The quoted datagram was of protocol `proto` (and to `port`), its header without options. */
function quotesTransport(family: 4 | 6, proto: number, port?: number): string {
  // ICMPv4: 8 (ICMP header) + 9 / + 20 + 2; ICMPv6: 40 + 8 + 6 / + 40 + 2
  const [p, d] = family === 4 ? ['icmp[17]', 'icmp[30:2]'] : ['ip6[54]', 'ip6[90:2]'];
  return `${p} == ${proto}${port !== undefined ? ` and ${d} == ${port}` : ''}`;
}

/** ICMP errors sent to us about a datagram (of protocol `proto`, to `port`) we sent to `remote`. */
export function icmpErrorsAbout(family: 4 | 6, local: string, remote: string, proto?: number, port?: number): string {
  const errors =
    family === 4
      ? `icmp and dst host ${local} and icmp[0] != 0 and icmp[0] != 8`
      : // ICMPv6 errors are the types below 128 (RFC 4443 2.1)
        `ip6 and dst host ${local} and ip6[6] == 58 and ip6[40] < 128`;
  const transport = proto === undefined ? '' : ` and ${quotesTransport(family, proto, port)}`;
  return `(${errors} and ${quotesDestination(family, remote)}${transport})`;
}

/** Echo requests and replies with identifier `ident` between us and `remote`, and the errors about them. */
export function echoFlow(family: 4 | 6, local: string, remote: string, ident: number): string {
  const echo =
    family === 4
      ? `(icmp and host ${remote} and (icmp[0] == 8 or icmp[0] == 0) and icmp[4:2] == ${ident})`
      : `(ip6 and host ${remote} and ip6[6] == 58 and (ip6[40] == 128 or ip6[40] == 129) and ip6[44:2] == ${ident})`;
  // the quoted echo's identifier: after the quoted IPv4 header (its length from its IHL, options and all),
  // or at 40 + 8 + 40 + 4 in ICMPv6
  const quotedIdent = family === 4 ? `icmp[(icmp[8] & 0xf) * 4 + 12 : 2] == ${ident}` : `ip6[92:2] == ${ident}`;
  const errors = icmpErrorsAbout(family, local, remote, family === 4 ? 1 : 58).replace(/\)$/, ` and ${quotedIdent})`);
  return `${echo} or ${errors}`;
}

/** A transport flow between us and `remote` (to its `port` when given), and the errors about it. */
export function portFlow(family: 4 | 6, proto: 'udp' | 'tcp', local: string, remote: string, port?: number): string {
  const ip = family === 4 ? 'ip' : 'ip6';
  const flow = `(${ip} and ${proto} and host ${remote} and host ${local}${port !== undefined ? ` and port ${port}` : ''})`;
  return `${flow} or ${icmpErrorsAbout(family, local, remote, proto === 'tcp' ? 6 : 17, port)}`;
}

/**
 * A server's flow: its port (and address, unless the wildcard), any peer,
 * and the ICMP errors that quote a datagram from that port.
 */
export function serverFlow(family: 4 | 6, proto: 'udp' | 'tcp', local: string | undefined, port: number): string {
  const n = proto === 'tcp' ? 6 : 17;
  const flow =
    family === 4 ? `(ip and ${proto} port ${port}${local ? ` and host ${local}` : ''})` : `(ip6 and ${proto} port ${port}${local ? ` and host ${local}` : ''})`;
  // the quoted source port: ICMPv4 8 + 20; ICMPv6 40 + 8 + 40
  const errors =
    family === 4
      ? `(icmp and icmp[0] != 0 and icmp[0] != 8 and icmp[17] == ${n} and icmp[28:2] == ${port})`
      : `(ip6 and ip6[6] == 58 and ip6[40] < 128 and ip6[54] == ${n} and ip6[88:2] == ${port})`;
  return `${flow} or ${errors}`;
}
