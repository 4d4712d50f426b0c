// AF_PACKET in host order (linux/if_packet.h, linux/filter.h, packet(7)):
// socket options, struct packet_mreq, struct tpacket_req3, the TPACKET_V3
// block and frame headers, and the ancillary offsets of classic BPF.

export const SOL_PACKET = 263;
export const ETH_P_ALL = 0x0003;

// SOL_PACKET options
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_DROP_MEMBERSHIP = 2;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_AUXDATA = 8;
export const PACKET_VERSION = 10;
export const PACKET_IGNORE_OUTGOING = 23;

export const PACKET_MR_PROMISC = 1;

export const TPACKET_V3 = 2;

// sll_pkttype
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;

// tp_status of a frame (and of a block: TP_STATUS_KERNEL / TP_STATUS_USER)
export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1;
export const TP_STATUS_COPY = 1 << 1;
export const TP_STATUS_LOSING = 1 << 2;
export const TP_STATUS_CSUMNOTREADY = 1 << 3;
export const TP_STATUS_VLAN_VALID = 1 << 4;
export const TP_STATUS_BLK_TMO = 1 << 5;
export const TP_STATUS_VLAN_TPID_VALID = 1 << 6;

export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;
export const ARPHRD_NONE = 0xfffe;

/** struct packet_mreq { int mr_ifindex; unsigned short mr_type, mr_alen; unsigned char mr_address[8]; } */
export function packetMreq(ifindex: number, type: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(ifindex, 0);
  b.writeUInt16LE(type, 4);
  return b;
}

export interface TpacketReq3 {
  blockSize: number;
  blockNr: number;
  frameSize: number;
  /** ms before the kernel hands over a block that is not full */
  retireBlkTov: number;
}

/** struct tpacket_req3 (seven unsigned ints). */
export function tpacketReq3(r: TpacketReq3): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt32LE(r.blockSize, 0);
  b.writeUInt32LE(r.blockNr, 4);
  b.writeUInt32LE(r.frameSize, 8);
  b.writeUInt32LE(Math.floor((r.blockSize * r.blockNr) / r.frameSize), 12);
  b.writeUInt32LE(r.retireBlkTov, 16);
  // tp_sizeof_priv = 0, tp_feature_req_word = 0
  return b;
}

/** struct tpacket_stats (v1/v2: tp_packets, tp_drops) or tpacket_stats_v3 (+ tp_freeze_q_cnt). */
export function decodeStats(b: Buffer): { packets: number; drops: number; freezes: number } {
  return {
    packets: b.length >= 4 ? b.readUInt32LE(0) : 0,
    drops: b.length >= 8 ? b.readUInt32LE(4) : 0,
    freezes: b.length >= 12 ? b.readUInt32LE(8) : 0,
  };
}

// struct tpacket_block_desc { __u32 version; __u32 offset_to_priv; struct tpacket_hdr_v1 hdr; }
// struct tpacket_hdr_v1 { block_status, num_pkts, offset_to_first_pkt, blk_len; __u64 seq_num; ts_first_pkt; ts_last_pkt }
export const BD = {
  BLOCK_STATUS: 8,
  NUM_PKTS: 12,
  OFFSET_TO_FIRST_PKT: 16,
  BLK_LEN: 20,
  SEQ_NUM: 24,
} as const;

// struct tpacket3_hdr, then (at TPACKET_ALIGN(sizeof)) the struct sockaddr_ll
export const T3 = {
  NEXT_OFFSET: 0,
  SEC: 4,
  NSEC: 8,
  SNAPLEN: 12,
  LEN: 16,
  STATUS: 20,
  MAC: 24,
  NET: 26,
  RXHASH: 28,
  VLAN_TCI: 32,
  VLAN_TPID: 36,
  SIZE: 48,
} as const;
export const TPACKET_ALIGNMENT = 16;
export const tpacketAlign = (n: number): number => (n + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);
/** TPACKET3_HDRLEN: the header, the sockaddr_ll after it, aligned */
export const TPACKET3_HDRLEN = tpacketAlign(T3.SIZE) + 20;
/** where a frame's struct sockaddr_ll starts */
export const T3_SLL = tpacketAlign(T3.SIZE);

// struct sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8]
export const SLL = { PROTOCOL: 2, IFINDEX: 4, HATYPE: 8, PKTTYPE: 10, HALEN: 11, ADDR: 12 } as const;

// classic BPF ancillary loads (linux/filter.h): ld [SKF_AD_OFF + SKF_AD_*]
export const SKF_AD_OFF = -0x1000;
export const SKF_AD_PROTOCOL = 0;
export const SKF_AD_PKTTYPE = 4;
export const SKF_AD_IFINDEX = 8;
export const SKF_AD_HATYPE = 28;
export const SKF_AD_VLAN_TAG = 44;
export const SKF_AD_VLAN_TAG_PRESENT = 48;
