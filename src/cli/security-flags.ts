import type { Command } from 'commander';
import type { ClientSecurityOptions } from '../security/index.js';

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
