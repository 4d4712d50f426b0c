// The shared socket core: what every sockit command stands on.
export * as C from './constants.js';
export { native, isSystemError, type SystemError, type SockAddr, type Control, type RecvResult, type ExtendedError } from './native/index.js';
export { Socket, inetAddress, formatDotted, formatHostPort, type SendResult } from './socket.js';
export { listen, IcmpEndpoint, IcmpPermissionError, permissionHint, type IcmpPacket, type IcmpMessage, type LocalError, type ListenOptions } from './icmp.js';
export {
  connectNonb,
  connectSocket,
  tcpConnect,
  tcpConnectEach,
  systemError,
  type Attempt,
  type ConnectOptions,
  type Connected,
  type ConnectResult,
} from './connect.js';
export { hostServ, servPort, isResolveError, type Family, type InetSockAddr } from './hostserv.js';
export {
  TcpServer,
  UdpServer,
  unmapped,
  type Peer,
  type ConnectionEnd,
  type Datagram,
  type TcpServerOptions,
  type DirectConnection,
  type DirectHandler,
} from './servers.js';
export { UdpClient, type RequestOptions } from './udpclient.js';
export * as packet from './packet/index.js';
export * as bpf from './bpf.js';
export * as structs from './structs.js';
export { resolveHost, nameOf, AddressNamer, type Resolved, type ResolvedAddress, type ResolveError } from './resolve.js';
export * as sockopt from './sockopt.js';
export { getOption, setOption, formatOption, findOption, type SockOpt, type SockKind, type OptionName, type OptionValue } from './sockopt.js';
export { processSockets, borrowSocket, ProcessAccessError, type ProcSocket } from './procsock.js';
