import { InvalidEventPatternError } from './errors.js';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted IPv4 address to an unsigned 32-bit integer, or `undefined`. */
function ipv4ToInt(address: string): number | undefined {
  const match = IPV4.exec(address);
  if (match === null) return undefined;
  let value = 0;
  for (let group = 1; group <= 4; group++) {
    const octet = Number(match[group]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/**
 * Compiles an IPv4 `cidr` matcher (`10.0.0.0/24`). IPv6 ranges are rejected with a clear error.
 *
 * @example
 * compileCidr('10.0.0.0/24', 'source-ip[0]')('10.0.0.7') // true
 */
export function compileCidr(cidr: string, path: string): (value: string) => boolean {
  const [address = '', bitsText, ...rest] = cidr.split('/');
  const base = ipv4ToInt(address);
  const bits = Number(bitsText);
  if (base === undefined || rest.length > 0 || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw new InvalidEventPatternError(
      path,
      'cidr needs an IPv4 range such as "10.0.0.0/24" (IPv6 is not supported here)',
    );
  }
  const size = 2 ** (32 - bits);
  const low = Math.floor(base / size) * size;
  const high = low + size - 1;
  return (value) => {
    const ip = ipv4ToInt(value);
    return ip !== undefined && ip >= low && ip <= high;
  };
}
