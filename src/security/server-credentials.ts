import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import { SecurityConfigError } from './security-config-error.js';

/** The TLS files of a server. Empty or absent means not set. */
export interface ServerTlsOptions {
  /** PEM certificate chain the server presents. With tlsKeyFile it turns TLS on. Default '': plaintext. */
  tlsCertFile?: string;
  /** PEM private key of tlsCertFile. Default ''. */
  tlsKeyFile?: string;
  /**
   * PEM CA certificate(s) that client certificates must chain to. Set, it turns mutual TLS on:
   * a client without such a certificate cannot connect. Default '': clients present none.
   */
  tlsClientCaFile?: string;
}

/** How a server's connections are protected. */
export type TlsMode = 'plaintext' | 'tls' | 'mutual-tls';

/** The TLS mode the options ask for. */
export function tlsModeOf(options: ServerTlsOptions): TlsMode {
  if (!options.tlsCertFile) return 'plaintext';
  return options.tlsClientCaFile ? 'mutual-tls' : 'tls';
}

/** Reads one file named by an option, with an error that names both. */
export function readOptionFile(option: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new SecurityConfigError(option, file, `cannot read the file: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The credentials to bind with: insecure (plaintext) without a certificate; TLS with tlsCertFile
 * and tlsKeyFile; mutual TLS when tlsClientCaFile is also set (clients must present a certificate
 * signed by that CA). The files are read now and checked with node:tls, so a missing file, a
 * non-PEM file or a key that does not match the certificate fails at start with the option named,
 * not at the first connection.
 */
export function serverCredentialsFrom(options: ServerTlsOptions): ServerCredentials {
  const mode = tlsModeOf(options);
  if (mode === 'plaintext') {
    if (options.tlsKeyFile || options.tlsClientCaFile) {
      throw new SecurityConfigError('tlsCertFile', '', 'tlsKeyFile and tlsClientCaFile need a certificate (tlsCertFile) as well');
    }
    return ServerCredentials.createInsecure();
  }
  const certFile = options.tlsCertFile!;
  if (!options.tlsKeyFile) throw new SecurityConfigError('tlsKeyFile', '', 'tlsCertFile needs its private key (tlsKeyFile) as well');
  const keyFile = options.tlsKeyFile;
  const cert = readOptionFile('tlsCertFile', certFile);
  const key = readOptionFile('tlsKeyFile', keyFile);
  const ca = mode === 'mutual-tls' ? readOptionFile('tlsClientCaFile', options.tlsClientCaFile!) : null;

  try {
    tls.createSecureContext({ cert });
  } catch (e) {
    throw new SecurityConfigError('tlsCertFile', certFile, `not a PEM certificate: ${(e as Error).message}`, { cause: e });
  }
  try {
    tls.createSecureContext({ cert, key });
  } catch (e) {
    throw new SecurityConfigError('tlsKeyFile', keyFile, `not the PEM private key of tlsCertFile: ${(e as Error).message}`, { cause: e });
  }
  if (ca) {
    try {
      // createSecureContext ignores text without a PEM block in `ca`; X509Certificate does not.
      new X509Certificate(ca);
    } catch (e) {
      throw new SecurityConfigError('tlsClientCaFile', options.tlsClientCaFile!, `not a PEM CA certificate: ${(e as Error).message}`, { cause: e });
    }
  }
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}
