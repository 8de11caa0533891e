import { createCipheriv, randomBytes, timingSafeEqual } from "node:crypto";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { ResticMacError } from "./errors";

/**
 * A repository's master key, as decrypted from one of its key files (or derived from a password for the
 * key file itself). restic authenticates with Poly1305-AES: `macK` is the AES-128 key that turns each IV
 * into the Poly1305 nonce part, `macR` the Poly1305 `r` (clamped by the Poly1305 implementation).
 */
export interface MasterKey {
  /** AES-256-CTR key, 32 bytes. */
  encrypt: Uint8Array;
  /** AES-128 key for the MAC, 16 bytes. */
  macK: Uint8Array;
  /** Poly1305 `r`, 16 bytes. */
  macR: Uint8Array;
}

const IV_LENGTH = 16;
const MAC_LENGTH = 16;

/** Bytes encryption adds to a plaintext: the IV in front, the MAC behind. */
export const RESTIC_ENCRYPTION_OVERHEAD = IV_LENGTH + MAC_LENGTH;

/** Decrypts restic's `IV || AES-256-CTR(plaintext) || Poly1305-AES(ciphertext)`, checking the MAC first. */
export function decrypt(key: MasterKey, stored: Uint8Array): Uint8Array {
  assertKeyLengths(key);
  if (stored.length < RESTIC_ENCRYPTION_OVERHEAD) {
    throw new ResticMacError(
      `encrypted data is ${stored.length} bytes, shorter than the ${RESTIC_ENCRYPTION_OVERHEAD} bytes of IV and MAC: truncated`,
    );
  }
  const iv = stored.subarray(0, IV_LENGTH);
  const ciphertext = stored.subarray(IV_LENGTH, stored.length - MAC_LENGTH);
  const mac = stored.subarray(stored.length - MAC_LENGTH);
  // restic never writes an all-zero IV and refuses to open one; so do we, rather than accept what restic rejects.
  if (iv.every((byte) => byte === 0))
    throw new ResticMacError("encrypted data has an all-zero IV, which restic rejects");
  if (!timingSafeEqual(poly1305Aes(key, iv, ciphertext), mac)) {
    throw new ResticMacError(
      "encrypted data does not authenticate (MAC mismatch): it was changed, or was encrypted with another key",
    );
  }
  return aes256Ctr(key.encrypt, iv, ciphertext);
}

/** Encrypts the way restic does, with a random IV unless one is given (tests pin it). */
export function encrypt(key: MasterKey, plaintext: Uint8Array, iv: Uint8Array = randomBytes(IV_LENGTH)): Uint8Array {
  assertKeyLengths(key);
  if (iv.length !== IV_LENGTH) throw new RangeError(`an IV is ${IV_LENGTH} bytes, got ${iv.length}`);
  if (iv.every((byte) => byte === 0)) throw new RangeError("an all-zero IV is rejected by restic");
  const ciphertext = aes256Ctr(key.encrypt, iv, plaintext);
  const stored = new Uint8Array(IV_LENGTH + ciphertext.length + MAC_LENGTH);
  stored.set(iv, 0);
  stored.set(ciphertext, IV_LENGTH);
  stored.set(poly1305Aes(key, iv, ciphertext), IV_LENGTH + ciphertext.length);
  return stored;
}

/** Poly1305 with the one-time key `r || AES-128_k(iv)`, as restic's poly1305PrepareKey builds it. */
function poly1305Aes(key: MasterKey, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const nonceCipher = createCipheriv("aes-128-ecb", key.macK, null).setAutoPadding(false);
  const encryptedNonce = nonceCipher.update(iv);
  const oneTimeKey = new Uint8Array(32);
  oneTimeKey.set(key.macR, 0);
  oneTimeKey.set(encryptedNonce, 16);
  return poly1305(ciphertext, oneTimeKey);
}

/** CTR with the whole 16-byte IV as a big-endian counter: OpenSSL and Go's cipher.NewCTR agree on it. */
function aes256Ctr(encryptionKey: Uint8Array, iv: Uint8Array, input: Uint8Array): Uint8Array {
  const cipher = createCipheriv("aes-256-ctr", encryptionKey, iv);
  const head = cipher.update(input);
  const tail = cipher.final();
  const output = new Uint8Array(head.length + tail.length);
  output.set(head, 0);
  output.set(tail, head.length);
  return output;
}

function assertKeyLengths(key: MasterKey): void {
  if (key.encrypt.length !== 32 || key.macK.length !== 16 || key.macR.length !== 16) {
    throw new RangeError(
      `a restic master key is 32 + 16 + 16 bytes, got ${key.encrypt.length} + ${key.macK.length} + ${key.macR.length}`,
    );
  }
}
