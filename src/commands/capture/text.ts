// tcpdump's wording around a live capture (tcpdump.c 4.99): the banner on
// stderr, the three counters at the end, and the -D device list.
import { linkTypeText } from '../../stack/capture/index.js';
import type { CaptureDevice } from '../../stack/capture/devices.js';

const plural = (n: number) => (n === 1 ? '' : 's');

/**
 * The banner: "listening on va, link-type EN10MB (Ethernet), snapshot
 * length 262144 bytes", after tcpdump's "verbose output suppressed" hint
 * when packets are printed without -v, else after "tcpdump: ".
 */
export function bannerText(device: string, linktype: number, snaplen: number, hint: boolean): string {
  const head = hint ? 'sockit capture: verbose output suppressed, use -v[v]... for full protocol decode\n' : 'sockit capture: ';
  return `${head}listening on ${device}, link-type ${linkTypeText(linktype)}, snapshot length ${snaplen} bytes\n`;
}

/** tcpdump's info(1): the three lines at the end of a live capture. */
export function statsText(captured: number, received: number, dropped: number): string {
  return (
    `${captured} packet${plural(captured)} captured\n` +
    `${received} packet${plural(received)} received by filter\n` +
    `${dropped} packet${plural(dropped)} dropped by kernel\n`
  );
}

/** One line of tcpdump -D: "1.va [Up, Running, Connected]". */
export function deviceLine(d: CaptureDevice, n: number): string {
  const flags = [d.up && 'Up', d.running && 'Running', d.loopback && 'Loopback'].filter(Boolean).join(', ') || 'none';
  const status = d.connection === 'connected' ? ', Connected' : d.connection === 'disconnected' ? ', Disconnected' : '';
  return `${n}.${d.name}${d.description ? ` (${d.description})` : ''} [${flags}${status}]\n`;
}
