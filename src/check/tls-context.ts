// The one TLS context of every SSL_GET checker, from the top-level SSL block, as keepalived's
// build_ssl_ctx() makes it: the client certificate chain, its private key (decrypted with
// `password`) and the CA file. keepalived never asks OpenSSL to verify the server (no
// SSL_VERIFY_PEER), so `ca` must load but decides nothing, and neither does it here.
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { SslConfig } from '../config/model/index.js';
import { readBounded } from '../core/files.js';

/** PEM files larger than this are not certificates or keys. */
const MAX_PEM_BYTES = 1 << 20;

/** The context, undefined for Node's default (no SSL block), or keepalived's log lines on failure. */
export function sslContext(ssl: SslConfig | undefined): SecureContext | undefined | { error: string[] } {
  if (!ssl || (!ssl.certificate && !ssl.key && !ssl.ca)) return undefined;
  // build_ssl_ctx() loads in this order and stops at the first failure.
  const parts: [keyof SslConfig & ('certificate' | 'key' | 'ca'), string][] = [
    ['certificate', 'SSL error : Cant load certificate file...'],
    ['key', 'SSL error : Cant load key file...'],
    ['ca', 'SSL error : Cant load CA file...'],
  ];
  const pem: Partial<Record<'certificate' | 'key' | 'ca', Buffer>> = {};
  const failed = (line: string, why: string): { error: string[] } => ({
    // keepalived also logs the password here; it stays out of our logs.
    error: [`${line} (${why})`, 'Error Initialize SSL, ctx Instance', `  SSL  keyfile:${ssl.key ?? '(null)'}`, `  SSL   cafile:${ssl.ca ?? '(null)'}`],
  });
  for (const [k, line] of parts) {
    const path = ssl[k];
    if (!path) continue;
    const r = readBounded(path, MAX_PEM_BYTES);
    if (!r.ok) return failed(line, `${path}: ${r.kind === 'unreadable' ? r.code : r.kind}`);
    pem[k] = r.data;
  }
  // Each part alone, in keepalived's order, so the line says which file OpenSSL refused; then
  // the whole, where a key that does not match the certificate is the key file's failure.
  const tries: [string, Parameters<typeof createSecureContext>[0]][] = [
    [parts[0][1], pem.certificate ? { cert: pem.certificate } : undefined],
    [parts[1][1], pem.key ? { key: pem.key, passphrase: ssl.password ?? '' } : undefined],
    [parts[2][1], pem.ca ? { ca: pem.ca } : undefined],
    [
      parts[1][1],
      {
        ...(pem.certificate ? { cert: pem.certificate } : {}),
        ...(pem.key ? { key: pem.key, passphrase: ssl.password ?? '' } : {}),
        ...(pem.ca ? { ca: pem.ca } : {}),
      },
    ],
  ];
  // Node takes a CA bundle with no certificate in it without a word; OpenSSL's
  // SSL_CTX_load_verify_locations() fails on it.
  if (pem.ca) {
    try {
      new X509Certificate(pem.ca);
    } catch (e) {
      return failed(parts[2][1], (e as Error).message);
    }
  }
  let ctx: SecureContext | undefined;
  for (const [line, opts] of tries) {
    if (!opts) continue;
    try {
      ctx = createSecureContext(opts);
    } catch (e) {
      return failed(line, (e as Error).message);
    }
  }
  return ctx;
}
