import * as net from 'node:net';

/**
 * Does binding `host` keep the server on this machine? True for `localhost`, 127.0.0.0/8, `::1`
 * and IPv4-mapped loopback; false for wildcards (`0.0.0.0`, `::`), other addresses and names.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}
