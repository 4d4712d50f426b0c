// print-arp.c (tcpdump 4.99): who-has, is-at and RARP's who-is, with the
// hardware and protocol at -v. Facts copied, not code.
import type { ArpLayer } from '../../../stack/dissect/index.js';
import { type TextOptions, host, macName } from './netdissect.js';

/** arp_print's line: at -v the hardware and protocol named, with -e no "ARP, " (the link header said it). */
export function arpText(l: ArpLayer, o: TextOptions): string {
  let t = arpWords(l, o);
  if (o.verbose && l.hrd === 1 && l.pro === 0x0800) t = t.replace(/^(R?ARP), /, '$1, Ethernet (len 6), IPv4 (len 4), ');
  return o.link ? t.replace(/^R?ARP, /, '') : t;
}

function arpWords(a: ArpLayer, o: TextOptions): string {
  if (a.pro !== 0x0800) return `ARP, ${arpOp(a.op)}, length ${a.length}`;
  switch (a.op) {
    case 1:
      return `ARP, Request who-has ${host(o, a.tpa)}${a.tha !== '00:00:00:00:00:00' ? ` (${macName(o, a.tha)})` : ''} tell ${host(o, a.spa)}, length ${a.length}`;
    case 2:
      return `ARP, Reply ${host(o, a.spa)} is-at ${macName(o, a.sha)}, length ${a.length}`;
    case 3:
      return `RARP, Request who-is ${macName(o, a.tha)} tell ${macName(o, a.sha)}, length ${a.length}`;
    case 4:
      return `RARP, Reply ${macName(o, a.tha)} at ${host(o, a.tpa)}, length ${a.length}`;
    default:
      return `ARP, ${arpOp(a.op)}, length ${a.length}`;
  }
}

const arpOp = (op: number) => ['', 'Request', 'Reply', 'Reverse Request', 'Reverse Reply'][op] ?? `Unknown (${op})`;
