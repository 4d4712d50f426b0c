// ICMP types and codes by the names the tools print: iputils ping's text
// (pr_icmph) and traceroute 2.x's annotations (parse_icmp_res). One place
// for both, so engines and commands never spell a type out.
import * as icmp4 from './icmp4.js';
import * as icmp6 from './icmp6.js';

/** iputils' text for an ICMPv4 message (pr_icmph). */
export function describe4(type: number, code: number, info: number): string {
  switch (type) {
    case icmp4.ECHO_REPLY:
      return 'Echo Reply';
    case icmp4.DEST_UNREACH:
      return (
        [
          'Destination Net Unreachable',
          'Destination Host Unreachable',
          'Destination Protocol Unreachable',
          'Destination Port Unreachable',
          `Frag needed and DF set (mtu = ${info})`,
          'Source Route Failed',
          'Destination Net Unknown',
          'Destination Host Unknown',
          'Source Host Isolated',
          'Destination Net Prohibited',
          'Destination Host Prohibited',
          'Destination Net Unreachable for Type of Service',
          'Destination Host Unreachable for Type of Service',
          'Packet filtered',
          'Precedence Violation',
          'Precedence Cutoff',
        ][code] ?? `Dest Unreachable, Bad Code: ${code}`
      );
    case icmp4.SOURCE_QUENCH:
      return 'Source Quench';
    case icmp4.REDIRECT:
      return (
        ['Redirect Network', 'Redirect Host', 'Redirect Type of Service and Network', 'Redirect Type of Service and Host'][code] ??
        `Redirect, Bad Code: ${code}`
      );
    case icmp4.ECHO_REQUEST:
      return 'Echo Request';
    case icmp4.TIME_EXCEEDED:
      return ['Time to live exceeded', 'Frag reassembly time exceeded'][code] ?? `Time exceeded, Bad Code: ${code}`;
    case icmp4.PARAMETER_PROBLEM:
      return `Parameter problem: pointer = ${info}`;
    default:
      return `Bad ICMP type: ${type}`;
  }
}

/** iputils' text for an ICMPv6 message (pr_icmph). */
export function describe6(type: number, code: number, info: number): string {
  switch (type) {
    case icmp6.DEST_UNREACH:
      return (
        'Destination unreachable: ' +
        (['No route', 'Administratively prohibited', 'Beyond scope of source address', 'Address unreachable', 'Port unreachable'][code] ??
          `Unknown code ${code}`)
      );
    case icmp6.PACKET_TOO_BIG:
      return `Packet too big: mtu=${info}` + (code ? `, code=${code}` : '');
    case icmp6.TIME_EXCEEDED:
      return 'Time exceeded: ' + (['Hop limit', 'Defragmentation failure'][code] ?? `code ${code}`);
    case icmp6.PARAM_PROB:
      return 'Parameter problem: ' + (['Wrong header field ', 'Unknown header ', 'Unknown option '][code] ?? `code ${code} `) + `at ${info}`;
    case icmp6.ECHO_REQUEST:
      return 'Echo request';
    case icmp6.ECHO_REPLY:
      return 'Echo reply';
    case 130:
      return 'MLD Query';
    case 131:
      return 'MLD Report';
    case 132:
      return 'MLD Reduction';
    default:
      return `unknown icmp type: ${type}`;
  }
}

/**
 * traceroute's annotation for an ICMP error (its parse_icmp_res): null for
 * a time exceeded in transit (not final), '' for a port unreachable (the
 * destination: final, nothing printed), '!H', '!N', '!F-<mtu>' ... (final).
 */
export function annotate(family: 4 | 6, type: number, code: number, info: number): string | null {
  if (family === 4) {
    if (type === 11 && code === 0) return null;
    if (type === 3) {
      switch (code) {
        case 0:
        case 6:
        case 8:
        case 11:
          return '!N';
        case 1:
        case 7:
        case 12:
          return '!H';
        case 9:
        case 10:
        case 13:
          return '!X';
        case 3:
          return '';
        case 2:
          return '!P';
        case 4:
          return `!F-${info}`;
        case 5:
          return '!S';
        case 14:
          return '!V';
        case 15:
          return '!C';
        default:
          return `!<${code}>`;
      }
    }
  } else {
    if (type === 3 && code === 0) return null;
    if (type === 1) {
      switch (code) {
        case 0:
          return '!N';
        case 2:
        case 3:
          return '!H';
        case 1:
          return '!X';
        case 4:
          return '';
        default:
          return `!<${code}>`;
      }
    }
    if (type === 2) return `!F-${info}`;
  }
  return `!<${type}-${code}>`;
}

// the kernel's errno for each ICMPv4 unreachable code (net/ipv4/icmp.c icmp_err_convert)
const UNREACH4 = [
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOPROTOOPT',
  'ECONNREFUSED',
  'EMSGSIZE',
  'EOPNOTSUPP',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENONET',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EHOSTUNREACH',
  'EHOSTUNREACH',
  'EHOSTUNREACH',
];
// and each ICMPv6 one (net/ipv6/icmp.c tab_unreach)
const UNREACH6 = ['ENETUNREACH', 'EACCES', 'EHOSTUNREACH', 'EHOSTUNREACH', 'ECONNREFUSED', 'EACCES', 'EACCES'];

/**
 * The errno the kernel reports to a socket for an ICMP error (ping_err,
 * icmpv6_err_convert): 'EHOSTUNREACH' for a time exceeded, 'ECONNREFUSED'
 * for a port unreachable ...; null for what is not an error (echo, source quench).
 */
export function icmpErrno(family: 4 | 6, type: number, code: number): string | null {
  if (family === 4) {
    switch (type) {
      case icmp4.DEST_UNREACH:
        return UNREACH4[code] ?? 'EHOSTUNREACH';
      case icmp4.TIME_EXCEEDED:
        return 'EHOSTUNREACH';
      case icmp4.PARAMETER_PROBLEM:
        return 'EPROTO';
      case icmp4.REDIRECT:
        return 'EREMOTEIO';
      default:
        return null;
    }
  }
  switch (type) {
    case icmp6.DEST_UNREACH:
      return UNREACH6[code] ?? 'EPROTO';
    case icmp6.PACKET_TOO_BIG:
      return 'EMSGSIZE';
    case icmp6.TIME_EXCEEDED:
      return 'EHOSTUNREACH';
    case icmp6.PARAM_PROB:
      return 'EPROTO';
    default:
      return null;
  }
}
