// Which source address the kernel would use toward a destination: connect a
// UDP socket (no packet is sent) and read getsockname(2). ping and
// traceroute both do this before they print their header.
import * as C from './constants.js';
import { Socket, inetAddress } from './socket.js';

export interface RouteProbeOptions {
  /** SO_BINDTODEVICE */
  device?: string;
  tos?: number;
  mark?: number;
  /** the destination port to connect to (ping uses 1025) */
  port?: number;
  /** SO_BROADCAST: a broadcast destination is allowed (connect gives EACCES otherwise) */
  broadcast?: boolean;
}

/** Resolves the source address; throws the system error connect(2) gives (ENETUNREACH, EACCES ...). */
export function sourceAddressFor(target: string, opts: RouteProbeOptions = {}): string {
  const remote = inetAddress(target, opts.port ?? 1025);
  const s = Socket.open(remote.family, C.SOCK_DGRAM);
  try {
    if (opts.device) s.setsockopt(C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(opts.device + '\0'));
    if (opts.tos !== undefined && remote.family === C.AF_INET) s.setsockopt(C.IPPROTO_IP, C.IP_TOS, opts.tos);
    if (opts.mark !== undefined) s.setsockopt(C.SOL_SOCKET, C.SO_MARK, opts.mark);
    if (opts.broadcast) s.setsockopt(C.SOL_SOCKET, C.SO_BROADCAST, 1);
    s.connectStart(remote);
    const local = s.localAddress();
    return local && 'address' in local ? local.address : '';
  } finally {
    s.close();
  }
}
