// The probe methods by name, as traceroute 2.x's modules are (mod-udp.c,
// mod-icmp.c, mod-tcp.c each fill one struct tr_module: name, init,
// send_probe, recv_probe, expire_probe, options). Each method's file
// exports its MethodDescriptor; this table is the one list of them, used by
// traceroute (-M NAME, -I, -T, -U) and ping. Adding a method: its file, and
// one line below.
import type { MethodDescriptor } from './descriptor.js';
import { icmpMethod } from './icmp.js';
import { tcpMethod } from './tcp.js';
import { defaultMethod, udpMethod } from './udp.js';

export type { MethodDescriptor, MethodOpenOptions, MethodOption, OpenedMethod, PacketLayout } from './descriptor.js';

/** Every method, in traceroute 2.x's order. */
export const METHODS: readonly MethodDescriptor[] = [defaultMethod, icmpMethod, tcpMethod, udpMethod];

/** The method called `name`, or undefined. */
export function probeMethod(name: string): MethodDescriptor | undefined {
  return METHODS.find((m) => m.name === name);
}

/** The method the option letter picks (-I icmp, -T tcp, -U udp). */
export function methodByFlag(flag: string): MethodDescriptor | undefined {
  return METHODS.find((m) => m.flag === flag);
}
