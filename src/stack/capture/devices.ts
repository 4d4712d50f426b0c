// The devices a live capture can open, as pcap_findalldevs(3PCAP) lists
// them: every interface (rtnetlink) plus `any`, with libpcap's flags and in
// its order (up and running first, disconnected after connected, loopback
// after the rest, equal ones as the kernel numbers them).
import { links } from '../inventory/index.js';
import { ARPHRD_LOOPBACK } from '../abi/tpacket.js';

const IFF_UP = 0x1,
  IFF_LOOPBACK = 0x8,
  IFF_RUNNING = 0x40,
  IFF_LOWER_UP = 0x10000;

export type ConnectionStatus = 'connected' | 'disconnected' | 'not-applicable';

export interface CaptureDevice {
  name: string;
  /** 0 for any */
  ifindex: number;
  /** ARPHRD_* (0 for any) */
  hatype: number;
  description?: string;
  up: boolean;
  running: boolean;
  loopback: boolean;
  connection: ConnectionStatus;
}

export const ANY_DEVICE: CaptureDevice = {
  name: 'any',
  ifindex: 0,
  hatype: 0,
  description: 'Pseudo-device that captures on all interfaces',
  up: true,
  running: true,
  loopback: false,
  connection: 'not-applicable',
};

/** libpcap's figure of merit: lower sorts first. */
function merit(d: CaptureDevice): number {
  let n = 0;
  if (!d.running) n |= 8;
  if (!d.up) n |= 4;
  if (d.connection === 'disconnected') n |= 2;
  if (d.loopback) n |= 1;
  return n;
}

/** The devices in pcap_findalldevs order (`any` after the interfaces as good as it). */
export async function captureDevices(): Promise<CaptureDevice[]> {
  const { links: all } = await links();
  const devs: CaptureDevice[] = all
    .filter((l) => l.name)
    .sort((a, b) => a.index - b.index)
    .map((l) => {
      const loopback = (l.flags & IFF_LOOPBACK) !== 0 || l.type === ARPHRD_LOOPBACK;
      return {
        name: l.name!,
        ifindex: l.index,
        hatype: l.type,
        up: (l.flags & IFF_UP) !== 0,
        running: (l.flags & IFF_RUNNING) !== 0,
        loopback,
        connection: loopback ? 'not-applicable' : (l.flags & IFF_LOWER_UP) !== 0 ? 'connected' : 'disconnected',
      };
    });
  devs.push(ANY_DEVICE);
  // a stable sort keeps the kernel's order among equals
  return devs
    .map((d, i) => ({ d, i }))
    .sort((a, b) => merit(a.d) - merit(b.d) || a.i - b.i)
    .map((x) => x.d);
}
