// tcpdump's wording for a dissected packet (tcpdump 4.99 print-*.c): the
// one line of `tcpdump -n -r F`, its -e -q -v variants, the -x/-X/-A dumps
// and the timestamp formats. Facts copied, not code. One module a printer,
// as tcpdump's sources are: ether.ts (print-ether.c, print-sll.c,
// print-null.c), ip.ts, ip6.ts, tcp.ts, udp.ts, icmp.ts, icmp6.ts, arp.ts,
// domain.ts, ntp.ts (their print-*.c), ascii.ts (print-ascii.c), time.ts
// (util-print.c's ts_print) and netdissect.ts (the options and the names
// all of them take).
export { asciiText, hexAsciiText, hexText } from './ascii.js';
export { ethertypeName, packetText, undecodedEther } from './ether.js';
export type { NameTable, TextOptions } from './netdissect.js';
export { TcpState, tcpFlagText } from './tcp.js';
export { Clock, type TimeFormat } from './time.js';
