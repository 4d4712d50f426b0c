// ping's quick getopt against commander over the same option table: for
// every argv the quick parser accepts it must give commander's values and
// operands; what it declines (errors, help) is commander's to parse.
import { describe, expect, it } from 'vitest';
import { command, parse, quickParse } from '../../src/commands/ping/options.js';

/** commander's values and operands for argv, or the error it throws. */
function viaCommander(argv: string[]): { values: Record<string, unknown>; args: string[] } | { error: string } {
  const cmd = command();
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    return { error: String(e) };
  }
  return { values: { ...cmd.opts() }, args: [...cmd.args] };
}

const ACCEPTED: string[][] = [
  ['127.0.0.1'],
  ['-c', '1', '127.0.0.1'],
  ['-c1', '127.0.0.1'],
  ['127.0.0.1', '-c', '3'],
  ['-nqc', '2', 'host'],
  ['-nqc2', 'host'],
  ['-4', '-6', 'x'],
  ['-46fq', 'x'],
  ['-f', '-q', '-c', '100000', '127.0.0.1'],
  ['-i', '0.2', '-W', '1,5', '-w', '3', 'x'],
  ['-s', '0', 'x'],
  ['-p', 'ff00', '-Q', '0x10', '-t', '1', 'x'],
  ['-N', 'ipv6', '-N', 'subject-name=foo.example', '::1'],
  ['-N', 'name', '::1'],
  ['-T', 'tsprespec', '10.0.0.1', '10.0.0.2', 'x'],
  ['-R', 'x'],
  ['--json', 'x'],
  ['--openmetrics', '-o', '/tmp/m.prom', 'x'],
  ['--pcap', 'out.pcapng', 'x'],
  ['--pcap=out.pcapng', 'x'],
  ['--mode', 'raw', 'x'],
  ['--mode=dgram', 'x'],
  ['-I', 'lo', '-m', '7', '-M', 'do', '-S', '4096', 'x'],
  ['-e', '0', '-F', '0x1234', '-l', '3', 'x'],
  ['-V'],
  ['-I', '-weird-name', 'x'],
  ['x', '--', '-c', '5'],
  ['--', '-x'],
  ['-', 'x'],
  ['-aAbBCdDLOrUv', 'x'],
  [],
];

const DECLINED: string[][] = [
  ['-h'],
  ['--help'],
  ['-Z', 'x'],
  ['-c'],
  ['-c', 'x', 'host'],
  ['-c', '0', 'host'],
  ['-nZ', 'x'],
  ['-n-', 'x'],
  ['-1', 'x'],
  ['--json=1', 'x'],
  ['--mode', 'bogus', 'x'],
  ['--mode=', 'x'],
  ['--pcap', '-', 'x'],
  ['--pcap='],
  ['-N', 'help'],
  ['-N', 'bogus', 'x'],
  ['-T', 'nope', 'x'],
  ['--version'],
  ['--=x'],
  ['-Z', '-c', 'x', 'host'],
];

describe('ping quick getopt', () => {
  it('gives commander values and operands for every argv it accepts', () => {
    for (const argv of ACCEPTED) {
      const quick = quickParse(argv);
      expect(quick, argv.join(' ')).not.toBeNull();
      expect(quick, argv.join(' ')).toEqual(viaCommander(argv));
    }
  });

  it('declines what commander refuses or answers with help, so commander words it', () => {
    for (const argv of DECLINED) expect(quickParse(argv), argv.join(' ')).toBeNull();
  });

  it('parse() gives the same options either way', () => {
    const argv = ['-nqc2', '-i', '0.5', '-s', '100', '-p', 'abcd', '--json', 'localhost'];
    const quick = parse(argv);
    expect(typeof quick).toBe('object');
    expect(quickParse(argv)).toEqual(viaCommander(argv));
  });
});
