// Pure encode/decode of the packets sockit sends and receives.
export * as addr from './addr.js';
export * as checksum from './checksum.js';
export * as ipv4 from './ipv4.js';
export * as ipv6 from './ipv6.js';
export * as icmp4 from './icmp4.js';
export * as icmp6 from './icmp6.js';
export * as nodeinfo from './nodeinfo.js';
export * as ipoptions from './ipoptions.js';
export * as udp from './udp.js';
export * as tcp from './tcp.js';
export * as quote from './quote.js';
export * as icmp from './icmp-message.js';
export type { DecodeResult, Decoded, DecodeFailure } from './result.js';
