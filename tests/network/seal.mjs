// Sealed responses: what the EHR chaincode returns when the caller puts a one-time
// X25519 public key (32 raw bytes) in the transient field `sealTo`.
//
//   {"scheme":"HPKE-X25519-HKDF-SHA256-ChaCha20Poly1305","enc":"<base64>","ciphertext":"<base64>"}
//
// RFC 9180 HPKE, base mode, single-shot: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// ChaCha20Poly1305; info = "ehr sealed response v1"; aad = the transaction id (ASCII).
// Used by gateway.mjs (--seal) and seal-selftest.mjs.
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';

export const SCHEME = 'HPKE-X25519-HKDF-SHA256-ChaCha20Poly1305';
export const INFO = new TextEncoder().encode('ehr sealed response v1');

export const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });

// A fresh key pair for one call: { keyPair, publicKey: 32 raw bytes for `sealTo` }.
export async function newRecipient() {
  const keyPair = await suite.kem.generateKeyPair();
  const publicKey = Buffer.from(await suite.kem.serializePublicKey(keyPair.publicKey));
  return { keyPair, publicKey };
}

// Standard base64 only (with padding), so that a malformed field is not silently truncated.
function b64(obj, field, minLength) {
  const s = obj[field];
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    throw new Error(`result is not a sealed response: "${field}" is not standard base64`);
  }
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length < minLength) throw new Error(`result is not a sealed response: "${field}" is ${bytes.length} bytes`);
  return bytes;
}

// Parses a sealed response (bytes or string); throws "result is not a sealed response: ..." if it is not one.
export function parseSealed(result) {
  const text = Buffer.from(result).toString('utf8');
  let sealed;
  try { sealed = JSON.parse(text); } catch { throw new Error(`result is not a sealed response (not JSON): ${text.slice(0, 200)}`); }
  if (sealed === null || typeof sealed !== 'object' || Array.isArray(sealed)) {
    throw new Error(`result is not a sealed response (not a JSON object): ${text.slice(0, 200)}`);
  }
  if (sealed.scheme !== SCHEME) throw new Error(`result is not a sealed response: scheme is ${JSON.stringify(sealed.scheme)}, want ${SCHEME}`);
  const enc = b64(sealed, 'enc', 32);
  if (enc.length !== 32) throw new Error(`result is not a sealed response: "enc" is ${enc.length} bytes, want 32`);
  const ciphertext = b64(sealed, 'ciphertext', 16);
  return { sealed, enc, ciphertext };
}

// Opens a sealed response with the recipient key pair (or private key); aad is the tx id.
// Returns { sealed, plaintext: Buffer }; throws "sealed response did not decrypt: ..." on failure.
export async function openSealed(result, recipientKey, txId, info = INFO) {
  const { sealed, enc, ciphertext } = parseSealed(result);
  try {
    const pt = await suite.open({ recipientKey, enc, info }, ciphertext, new TextEncoder().encode(txId));
    return { sealed, plaintext: Buffer.from(pt) };
  } catch (err) {
    throw new Error(`sealed response did not decrypt (wrong key, tx id or info?): ${err.name ?? 'Error'}: ${err.message ?? err}`);
  }
}
