// The pcap-filter expressions the dump tests check against tcpdump, shared
// with the live capture tests (kernel filter against the interpreter).

/** The expressions sockit must select exactly as tcpdump does (pcap-filter(7)). */
export const EXPRESSIONS = [
  'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'not ip', 'not tcp and not udp',
  'host 192.0.2.1', 'src host 192.0.2.1', 'dst host 192.0.2.1', 'host 192.0.2.17 or 192.0.2.1', 'host 192.0.2.33',
  'ip host 192.0.2.33', 'arp host 192.0.2.1', 'src or dst host 192.0.2.2', 'src and dst host 192.0.2.1',
  'host 2001:db8::1', 'src host 2001:db8:0:1::1', 'dst host 2001:db8:0:1::1', 'ip6 host 2001:db8::2',
  'net 192.0.2.0/24', 'net 192.0.2.32/28', 'src net 192.0.2.0/28', 'net 192.0.2.32 mask 255.255.255.240', 'net 2001:db8::/32', 'dst net 2001:db8:0:1::/64', 'net 192.0.2',
  'port 5001', 'tcp port 5001', 'udp port 53', 'src port 53', 'dst port 53', 'port 53 or 5001', 'udp port 9999 or 53', 'portrange 5000-5002',
  'tcp portrange 1-1024', 'udp dst portrange 33434-33534', 'tcp src port 5001', 'ip6 and tcp port 5001', 'ip and udp',
  'ether broadcast', 'ether multicast', 'multicast', 'broadcast', 'ip multicast', 'ip6 multicast',
  'less 100', 'greater 1000', 'len > 1400', 'len <= 60', 'ip proto 1', 'ip6 proto 58', 'ip proto 17', 'proto 6',
  'ip[8] = 1', 'ip[8] < 3', 'ip[6:2] & 0x1fff != 0', 'ip[2:2] > 1000', 'tcp[tcpflags] & tcp-syn != 0', 'tcp[13] & (tcp-syn|tcp-ack) = tcp-syn',
  'tcp[tcpflags] & tcp-rst != 0', 'tcp[tcpflags] & (tcp-fin|tcp-rst) != 0', 'icmp[icmptype] = icmp-echo', 'icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply',
  'icmp[0] = 11', 'icmp[icmptype] = icmp-unreach', 'icmp6[icmp6type] = icmp6-neighborsolicit', 'icmp6[0] = 128 or icmp6[0] = 129',
  'icmp6[icmp6type] = icmp6-echo', 'udp[8:2] = 4242', 'tcp[((tcp[12] & 0xf0) >> 2):1] = 0x68', 'ip[0] & 0xf != 5', 'ether[0] & 1 = 1', 'ether[12:2] = 0x8100',
  'vlan', 'vlan 10', 'vlan 20 and udp', 'vlan and arp', 'not vlan', 'ether host ff:ff:ff:ff:ff:ff', 'ether proto 0x0806',
  'ip and (tcp or icmp)', '(udp or tcp) and not port 53', 'icmp or arp or udp port 53', 'not (ip or ip6)', '!arp && !icmp6', 'tcp || udp',
  'host 192.0.2.1 and not host 192.0.2.33', 'udp and len - 42 > 10', 'ip[9] * 2 = 34', 'ip[2:2] - 20 > 1000', 'ip[2:2] / 4 < 30', 'ip[2:2] % 2 = 1', 'udp[4:2] ^ 0 > 20',
];
