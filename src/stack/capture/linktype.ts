// Link-layer header types of pcap and pcapng files (tcpdump.org/linktypes.html)
// with the names and descriptions libpcap's pcap_datalink_val_to_name() and
// pcap_datalink_val_to_description_or_dlt() give (pcap.c dlt_choices).

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

interface LinkTypeName {
  name: string;
  description: string;
}

const NAMES: Record<number, LinkTypeName> = {
  [LINKTYPE_NULL]: { name: 'NULL', description: 'BSD loopback' },
  [LINKTYPE_ETHERNET]: { name: 'EN10MB', description: 'Ethernet' },
  [LINKTYPE_RAW]: { name: 'RAW', description: 'Raw IP' },
  [LINKTYPE_LOOP]: { name: 'LOOP', description: 'OpenBSD loopback' },
  [LINKTYPE_LINUX_SLL]: { name: 'LINUX_SLL', description: 'Linux cooked v1' },
  [LINKTYPE_IPV4]: { name: 'IPV4', description: 'Raw IPv4' },
  [LINKTYPE_IPV6]: { name: 'IPV6', description: 'Raw IPv6' },
  [LINKTYPE_LINUX_SLL2]: { name: 'LINUX_SLL2', description: 'Linux cooked v2' },
};

/** "EN10MB (Ethernet)", as tcpdump's banner prints a link type. */
export function linkTypeText(linktype: number): string {
  const n = NAMES[linktype];
  return n ? `${n.name} (${n.description})` : `DLT_${linktype}`;
}

export function linkTypeName(linktype: number): string | undefined {
  return NAMES[linktype]?.name;
}
