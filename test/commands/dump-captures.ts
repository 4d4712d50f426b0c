// Captures for the dump tests: traffic made in a lab (src - r1 - dst) and
// recorded by the anchor tools themselves: tcpdump -w (µs and ns pcap) on
// src's link and dumpcap (pcapng, two interfaces, a comment) on the router.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../lab/index.js';

export interface Captures {
  dir: string;
  us: string;
  ns: string;
  ng: string;
}

const DNS = fileURLToPath(new URL('../fixtures/dns-tiny.py', import.meta.url));

function waitFor(child: ChildProcess, re: RegExp, stream: 'stdout' | 'stderr', ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms: ${text}`)), ms);
    child[stream]!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      if (re.test(text)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(t);
      if (!re.test(text)) reject(new Error(`exited ${code}: ${text}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGINT');
  });
}

/** A frame as hex, sent raw on an interface with socat (AF_PACKET): VLAN tags need no vlan driver. */
export function vlanFrames(srcMac: string): string[] {
  const mac = srcMac.replace(/:/g, '');
  const arp = `ffffffffffff${mac}8100000a0806000108000604000102000000000cc6336401000000000000c6336402`;
  // 802.1Q, priority 3, VLAN 20, an IPv4 UDP datagram 198.51.100.1:4000 -> 198.51.100.2:4001, "vlan!"
  const udp = `02000000000b${mac}81006014080045000021000100004011` + '0000' + 'c6336401c6336402' + '0fa00fa1000d0000' + '766c616e21';
  return [arp, udp];
}

export async function makeCaptures(lab: Lab): Promise<Captures> {
  const dir = mkdtempSync(join(tmpdir(), 'sockit-dump-'));
  spawnSync('chmod', ['777', dir]);
  const c: Captures = { dir, us: join(dir, 'us.pcap'), ns: join(dir, 'ns.pcap'), ng: join(dir, 'router.pcapng') };
  const [src, r1, dst] = [lab.src, lab.routers[0]!, lab.dst];
  const dns = lab.spawn(dst, ['python3', DNS, 'serve', '0.0.0.0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(dns, /ready/, 'stdout');
  const tcp = lab.spawn(dst, ['socat', '-u', 'TCP6-LISTEN:5001,reuseaddr,fork,ipv6only=0', 'OPEN:/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const caps = [
    lab.spawn(src, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-w', c.us], { stdio: ['ignore', 'pipe', 'pipe'] }),
    lab.spawn(src, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '--time-stamp-precision', 'nano', '-w', c.ns], { stdio: ['ignore', 'pipe', 'pipe'] }),
    lab.spawn(r1, ['dumpcap', '-q', '-i', 'eth0', '-i', 'eth1', '--capture-comment', 'sockit dump test', '-w', c.ng], { stdio: ['ignore', 'pipe', 'pipe'] }),
  ];
  await Promise.all([waitFor(caps[0]!, /listening on/, 'stderr'), waitFor(caps[1]!, /listening on/, 'stderr'), waitFor(caps[2]!, /Capturing on/, 'stderr')]);
  await new Promise((r) => setTimeout(r, 300));
  const x = (argv: string[], input?: string) => lab.exec(src, argv, { input, timeoutMs: 15_000 });
  await x(['ping', '-c', '2', '-i', '0.2', dst.v4]);
  await x(['ping', '-6', '-c', '2', '-i', '0.2', dst.v6]);
  await x(['ping', '-c', '1', '-s', '3000', dst.v4]);
  await x(['ping', '-6', '-c', '1', '-s', '3000', dst.v6]);
  await x(['traceroute', '-n', '-q', '1', '-m', '3', dst.v4]);
  await x(['traceroute', '-6', '-n', '-q', '1', '-m', '3', dst.v6]);
  await x(['socat', '-u', '-', `TCP:${dst.v4}:5001`], 'hello, dump\r\nsecond line\n');
  await x(['socat', '-u', '-', `TCP6:[${dst.v6}]:5001`], 'six\n');
  await x(['socat', '-u', '-', `TCP:${dst.v4}:5002`], '');
  await x(['socat', '-u', '-', `UDP:${dst.v4}:9999`], 'udp four\n');
  await x(['socat', '-u', '-', `UDP6:[${dst.v6}]:9999`], 'udp six\n');
  await x(['python3', DNS, 'ask', dst.v4, 'host.example', 'A', '4242']);
  await x(['python3', DNS, 'ask', dst.v4, 'www.example', 'A', '4243']);
  await x(['python3', DNS, 'ask', dst.v4, 'missing.example', 'AAAA', '4244']);
  const link = await lab.exec(src, ['cat', '/sys/class/net/eth0/address']);
  for (const frame of vlanFrames(link.stdout.trim())) {
    await lab.exec(src, ['socat', '-u', '-', 'INTERFACE:eth0'], { input: Buffer.from(frame, 'hex') });
  }
  await new Promise((r) => setTimeout(r, 1000));
  await Promise.all(caps.map(stop));
  dns.kill('SIGKILL');
  tcp.kill('SIGKILL');
  return c;
}
