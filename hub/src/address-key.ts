// What per-address limits count by. An IPv4 address is one address (also when it comes IPv4-mapped, as
// on a dual-stack listener); an IPv6 client usually holds a whole /64 and picks any address in it at
// will, so IPv6 addresses count by their /64.
import { isIPv4, isIPv6 } from 'node:net';

/** The eight hextets of an IPv6 address, expanded ("2001:db8::1" → 2001, db8, 0, ..., 1). */
function hextets(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((h) => h.toLowerCase().replace(/^0+(?=.)/, ''));
}

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address) || address.includes('.')) return address;
  return `${hextets(address.replace(/%.*$/, '')).slice(0, 4).join(':')}::/64`;
}
