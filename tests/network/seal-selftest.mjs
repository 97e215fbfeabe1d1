// Checks seal.mjs (the code path gateway.mjs --seal uses) without a network.
//
//   node seal-selftest.mjs
//
// Prints one line per check and exits 1 if any fails: an RFC 9180 A.2.1 known
// answer, a round trip through a generated key, and refusals (wrong aad, info,
// key, tampered ciphertext, results that are not sealed responses).
import assert from 'node:assert/strict';
import { suite, newRecipient, openSealed, SCHEME, INFO } from './seal.mjs';

const hex = (s) => Buffer.from(s, 'hex');
const b64 = (b) => Buffer.from(b).toString('base64');
const sealedJson = (enc, ct) => JSON.stringify({ scheme: SCHEME, enc: b64(enc), ciphertext: b64(ct) });
const txId = 'a'.repeat(40) + '0123456789abcdef01234567';
let failed = 0;

async function check(name, fn) {
  try { await fn(); console.log(`ok   ${name}`); }
  catch (err) { failed++; console.log(`FAIL ${name}: ${err.message}`); }
}

async function refused(promise, pattern) {
  await assert.rejects(promise, (err) => { assert.match(err.message, pattern); return true; });
}

// Seals like the chaincode does: to `publicKey` (CryptoKey), with info and aad = tx id.
async function sealTo(publicKey, plaintext, aad, info = INFO) {
  const { enc, ct } = await suite.seal({ recipientPublicKey: publicKey, info }, new TextEncoder().encode(plaintext), new TextEncoder().encode(aad));
  return { enc: Buffer.from(enc), ct: Buffer.from(ct) };
}

await check('RFC 9180 A.2.1 (X25519, HKDF-SHA256, ChaCha20Poly1305, base) opens', async () => {
  const skR = await suite.kem.deserializePrivateKey(hex('8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb'));
  const pt = await suite.open({ recipientKey: skR, enc: hex('1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a'),
    info: hex('4f6465206f6e2061204772656369616e2055726e') },
  hex('1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28'), hex('436f756e742d30'));
  assert.equal(Buffer.from(pt).toString('utf8'), 'Beauty is truth, truth beauty');
  const pkR = Buffer.from(await suite.kem.serializePublicKey(await suite.kem.deserializePublicKey(hex('4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a'))));
  assert.equal(pkR.toString('hex'), '4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a');
});

const recipient = await newRecipient();
const plaintext = JSON.stringify({ patientId: 'P-1', name: 'Zoë Example', records: [] });
const { enc, ct } = await sealTo(await suite.kem.deserializePublicKey(recipient.publicKey), plaintext, txId);

await check('sealTo is 32 raw bytes, enc 32 bytes, ciphertext = plaintext + 16-byte tag', async () => {
  assert.equal(recipient.publicKey.length, 32);
  assert.equal(enc.length, 32);
  assert.equal(ct.length, Buffer.byteLength(plaintext) + 16);
});

await check('round trip: openSealed returns the plaintext and the sealed object', async () => {
  const opened = await openSealed(Buffer.from(sealedJson(enc, ct)), recipient.keyPair, txId);
  assert.equal(opened.plaintext.toString('utf8'), plaintext);
  assert.deepEqual(opened.sealed, JSON.parse(sealedJson(enc, ct)));
});

await check('wrong aad (another tx id) is refused', async () => {
  await refused(openSealed(sealedJson(enc, ct), recipient.keyPair, txId.replace(/^a/, 'b')), /did not decrypt/);
});

await check('wrong info is refused', async () => {
  const other = await sealTo(recipient.keyPair.publicKey, plaintext, txId, new TextEncoder().encode('ehr sealed response v2'));
  await refused(openSealed(sealedJson(other.enc, other.ct), recipient.keyPair, txId), /did not decrypt/);
});

await check('another recipient key is refused', async () => {
  const other = await newRecipient();
  await refused(openSealed(sealedJson(enc, ct), other.keyPair, txId), /did not decrypt/);
});

await check('tampered ciphertext is refused', async () => {
  const bad = Buffer.from(ct); bad[0] ^= 1;
  await refused(openSealed(sealedJson(enc, bad), recipient.keyPair, txId), /did not decrypt/);
});

await check('results that are not sealed responses are refused', async () => {
  const k = recipient.keyPair;
  await refused(openSealed(plaintext, k, txId), /not a sealed response: scheme/);
  await refused(openSealed('not json', k, txId), /not a sealed response \(not JSON\)/);
  await refused(openSealed('[1]', k, txId), /not a sealed response \(not a JSON object\)/);
  await refused(openSealed(JSON.stringify({ scheme: 'HPKE-other', enc: b64(enc), ciphertext: b64(ct) }), k, txId), /scheme/);
  await refused(openSealed(JSON.stringify({ scheme: SCHEME, enc: b64(enc).replace(/=*$/, ''), ciphertext: b64(ct) }), k, txId), /"enc" is not standard base64/);
  await refused(openSealed(JSON.stringify({ scheme: SCHEME, enc: b64(enc.subarray(0, 31)), ciphertext: b64(ct) }), k, txId), /"enc" is 31 bytes/);
  await refused(openSealed(JSON.stringify({ scheme: SCHEME, enc: b64(enc), ciphertext: b64(ct.subarray(0, 15)) }), k, txId), /"ciphertext" is 15 bytes/);
  await refused(openSealed(JSON.stringify({ scheme: SCHEME, enc: b64(enc) }), k, txId), /"ciphertext" is not standard base64/);
});

console.log(failed ? `${failed} check(s) failed` : 'all seal checks passed');
process.exit(failed ? 1 : 0);
