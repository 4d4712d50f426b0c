// A packet as a `packet` record of sockit(1) JSON OUTPUT: where and when,
// then each layer, outermost first, with its fields in snake_case.
import type { CapturePacket } from '../../stack/capture/index.js';
import { linkTypeName } from '../../stack/capture/index.js';
import type { Dissection, Icmp6Layer, Layer } from '../../stack/dissect/index.js';
import type { JsonRecord } from '../../output/index.js';
import { tcpFlagText } from './text/index.js';

const end = (family: 4 | 6, address: string, port: number) => ({ family, address, port });

function layerRecord(l: Layer, family: 4 | 6 | null, src: string, dst: string): Record<string, unknown> {
  switch (l.layer) {
    case 'ether':
      return { layer: 'ether', source: l.src, destination: l.dst, ethertype: l.ethertype };
    case 'vlan':
      return { layer: 'vlan', id: l.id, priority: l.pcp, dei: l.dei, ethertype: l.ethertype };
    case 'sll':
      return { layer: 'sll', version: l.version, packet_type: l.packetType, hatype: l.hatype, link_address: l.address || null, ethertype: l.ethertype };
    case 'null':
      return { layer: 'null', address_family: l.family };
    case 'arp':
      return { layer: 'arp', operation: l.op, sender_hardware: l.sha, sender: l.spa, target_hardware: l.tha, target: l.tpa, bytes: l.length };
    case 'ipv4': {
      const h = l.header;
      return {
        layer: 'ipv4',
        family: 4,
        source: h.src,
        destination: h.dst,
        tos: h.tos,
        ttl: h.ttl,
        id: h.id,
        df: h.df,
        mf: h.mf,
        fragment_offset: h.fragmentOffset,
        protocol: h.protocol,
        total_bytes: h.totalLength,
        header_bytes: h.headerLength,
        checksum_ok: l.checksumOk,
      };
    }
    case 'ipv6': {
      const h = l.header;
      return {
        layer: 'ipv6',
        family: 6,
        source: h.src,
        destination: h.dst,
        traffic_class: h.trafficClass,
        flow_label: h.flowLabel,
        hop_limit: h.hopLimit,
        payload_bytes: h.payloadLength,
        extensions: l.extensions.map((e) => e.type),
        protocol: l.protocol,
        fragment: l.fragment ? { offset: l.fragment.offset, more: l.fragment.more, id: l.fragment.id } : null,
      };
    }
    case 'tcp': {
      const g = l.segment;
      return {
        layer: 'tcp',
        source: family ? end(family, src, g.srcPort) : null,
        destination: family ? end(family, dst, g.dstPort) : null,
        flags: tcpFlagText(g.flags),
        seq: g.seq,
        ack: g.ack,
        window: g.window,
        urgent: g.urgent,
        options: g.options.map((x) => ({ ...x, ...('data' in x ? { data: x.data.toString('hex') || null } : {}) })).map(snake),
        bytes: l.length,
      };
    }
    case 'udp':
      return { layer: 'udp', source: family ? end(family, src, l.srcPort) : null, destination: family ? end(family, dst, l.dstPort) : null, bytes: l.length };
    case 'icmp':
    case 'icmp6': {
      const { quote, layer, naFlags, ndOptions, ra, ...rest } = l as Icmp6Layer;
      return {
        layer,
        ...snake(rest),
        na_flags: naFlags ?? undefined,
        nd_options: ndOptions?.map((x) => ({ ...x, address: x.address || null })),
        ra: ra ? snake(ra) : undefined,
        quote: quote ? layersRecord(quote) : undefined,
      };
    }
    case 'dns':
      return {
        layer: 'dns',
        id: l.id,
        response: l.qr,
        opcode: l.opcode,
        rcode: l.rcode,
        authoritative: l.aa,
        truncated: l.tc,
        recursion_desired: l.rd,
        questions: l.questions,
        answers: l.answers.filter((a) => !a.cut).map((a) => ({ ...a, data: a.data || null })),
        bytes: l.length,
      };
    case 'ntp':
      return { layer: 'ntp', version: l.version, mode: l.mode, stratum: l.stratum, bytes: l.length };
    case 'data':
      return { layer: 'data', bytes: l.length };
    case 'truncated':
      return { layer: 'truncated', codec: l.codec, message: l.error };
  }
}

function snake(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}

function layersRecord(layers: Layer[]): Record<string, unknown>[] {
  let family: 4 | 6 | null = null,
    src = '',
    dst = '';
  return layers.map((l) => {
    if (l.layer === 'ipv4' || l.layer === 'ipv6') {
      family = l.layer === 'ipv4' ? 4 : 6;
      src = l.header.src;
      dst = l.header.dst;
    }
    return layerRecord(l, family, src, dst);
  });
}

export function packetRecord(p: CapturePacket, d: Dissection): JsonRecord {
  return {
    type: 'packet',
    number: p.number,
    timestamp_ms: p.sec * 1000 + p.nsec / 1e6,
    timestamp_ns: `${p.sec}${String(p.nsec).padStart(9, '0')}`,
    interface_id: p.interfaceId,
    link_type: p.linktype,
    link_type_name: linkTypeName(p.linktype) ?? null,
    captured_bytes: p.caplen,
    wire_bytes: p.len,
    layers: layersRecord(d.layers),
  };
}
