import { type Command, InvalidArgumentError } from 'commander';
import type { TwinlensOptions } from '../config/index.js';
import type { ClientSecurityOptions } from '../security/index.js';

/** Appends a repeated flag's value (undefined until the flag is given, so environment values stand). */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `a,b` to a list; `none` (or nothing) to the empty list. */
function serviceList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 1 && list[0] === 'none') return [];
  if (list.some((s) => !/^[A-Za-z_][\w.]*$/.test(s))) throw new InvalidArgumentError(`expected service names such as grpc.health.v1.Health, or none`);
  return list;
}

/**
 * Adds the server's TLS and bearer-token flags to `serve`. Tokens on a command line show in `ps`:
 * prefer --token-file or TWINLENS_READ_TOKENS / TWINLENS_WRITE_TOKENS outside a laptop.
 */
export function addServeSecurityFlags(cmd: Command): Command {
  return cmd
    .option('--tls-cert <file>', 'PEM certificate chain: serve TLS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--tls-client-ca <file>', 'PEM CA: mutual TLS, clients must present a certificate it signed')
    .option('--read-token <token>', 'bearer token allowed to search, compare, embed and read the catalog (repeatable)', collect)
    .option('--write-token <token>', 'bearer token also allowed to change the catalog (repeatable)', collect)
    .option('--token-file <file>', "file of 'read:<token>' / 'write:<token>' lines")
    .option('--auth-exempt <services>', "services callable without a token, comma-separated, or 'none' (default: health, reflection)", serviceList);
}

/** The TwinlensOptions of addServeSecurityFlags' flags; flags not given stay undefined. */
export function serveSecurityOptionsFrom(o: {
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  readToken?: string[];
  writeToken?: string[];
  tokenFile?: string;
  authExempt?: string[];
}): Partial<TwinlensOptions> {
  return {
    tlsCertFile: o.tlsCert,
    tlsKeyFile: o.tlsKey,
    tlsClientCaFile: o.tlsClientCa,
    readTokens: o.readToken,
    writeTokens: o.writeToken,
    authTokenFile: o.tokenFile,
    authExemptServices: o.authExempt,
  };
}

/** Adds the client's TLS and bearer-token flags to a command that talks to a server. */
export function addClientSecurityFlags(cmd: Command): Command {
  return cmd
    .option('--token <token>', 'bearer token to send (default: $TWINLENS_TOKEN)')
    .option('--tls', "connect with TLS, trusting the system's CAs")
    .option('--tls-ca <file>', 'connect with TLS, trusting this PEM CA')
    .option('--tls-cert <file>', 'PEM client certificate for mutual TLS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert');
}

/** The flags of addClientSecurityFlags, as commander parses them. */
export interface ClientSecurityFlags {
  token?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** ClientSecurityOptions from addClientSecurityFlags' flags; the token falls back to TWINLENS_TOKEN. */
export function clientSecurityOptionsFrom(o: ClientSecurityFlags, env: NodeJS.ProcessEnv = process.env): ClientSecurityOptions {
  return {
    token: o.token ?? (env.TWINLENS_TOKEN || undefined),
    tls: o.tls,
    tlsCaFile: o.tlsCa,
    tlsCertFile: o.tlsCert,
    tlsKeyFile: o.tlsKey,
  };
}
