// Stevens' sock on the socket core (UNP appendix C.3, TCPv1 appendix C).
export { type SockConfig, type SockEvent, type Summary, type Emit, SockFailure, defaultConfig, strerror } from './config.js';
export { pattern, crlfAdd, crlfStrip, chunks, sourceRouteOption, splitDotted, MAX_SROUTE } from './bytes.js';
export {
  cliopen,
  servopen,
  acceptLoop,
  buffers,
  sockopts,
  parsePort,
  addressesOf,
  resolveHops,
  unixAddress,
  type Target,
  type Local,
  type Opened,
  type Listening,
} from './open.js';
export { loopStream, sourceStream, sinkStream, sendUrgent, readInput, pauseClose, type StdIO } from './stream.js';
export { loopDgram, sourceDgram, sinkDgram } from './dgram.js';
export { NetConn, CoreConn, type Conn } from './conn.js';
export { Broadcast } from './broadcast.js';
