import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../shared/errors";
import { decrypt, encrypt, type MasterKey, RESTIC_ENCRYPTION_OVERHEAD } from "../../shared/restic/crypto";
import { ResticMacError } from "../../shared/restic/errors";

const hex = (text: string) => new Uint8Array(Buffer.from(text, "hex"));

/** restic's own test vector (internal/crypto/crypto_int_test.go, testValues). */
const resticVector = {
  key: {
    encrypt: hex("303e8687b1d7db18421bdc6bb8588ccadac4d59ee87b8ff70c44e635790cafef"),
    macK: hex("ef4d8824cb80b2bcc5fbff8a9b12a42c"),
    macR: hex("cc8d4b948ee0ebfe1d415de921d10353"),
  } satisfies MasterKey,
  stored: hex("69fb41c62d12def4593bd71757138606338f621aeaeb39da0fe4f99233f8037a54ea63338a813bcf3f75d8c3cc75dddf8750"),
  plaintext: "Dies ist ein Test!",
};

const randomKey = (): MasterKey => ({ encrypt: randomBytes(32), macK: randomBytes(16), macR: randomBytes(16) });

describe("restic encryption", () => {
  it("decrypts restic's own test vector", () => {
    const plaintext = decrypt(resticVector.key, resticVector.stored);
    expect(new TextDecoder().decode(plaintext)).toBe(resticVector.plaintext);
  });

  it("encrypts byte for byte as restic does given the same IV", () => {
    const iv = resticVector.stored.subarray(0, 16);
    const stored = encrypt(resticVector.key, new TextEncoder().encode(resticVector.plaintext), iv);
    expect(Buffer.from(stored).toString("hex")).toBe(Buffer.from(resticVector.stored).toString("hex"));
  });

  it.each([0, 1, 15, 16, 17, 4096 + 3])("round-trips %i bytes with a random IV", (length) => {
    const key = randomKey();
    const plaintext = new Uint8Array(randomBytes(length));
    const stored = encrypt(key, plaintext);
    expect(stored.length).toBe(length + RESTIC_ENCRYPTION_OVERHEAD);
    expect(decrypt(key, stored)).toEqual(plaintext);
  });

  it("uses a fresh IV each time, so the same plaintext never encrypts the same way twice", () => {
    const key = randomKey();
    const plaintext = new TextEncoder().encode('{"same":true}');
    expect(encrypt(key, plaintext)).not.toEqual(encrypt(key, plaintext));
  });

  it("rejects a flipped bit anywhere (IV, ciphertext or MAC) with ResticMacError", () => {
    for (let index = 0; index < resticVector.stored.length; index++) {
      const tampered = resticVector.stored.slice();
      tampered[index] = (tampered[index] ?? 0) ^ 0x01;
      expect(() => decrypt(resticVector.key, tampered), `byte ${index}`).toThrow(ResticMacError);
    }
  });

  it("rejects data encrypted with another key", () => {
    const stored = encrypt(randomKey(), new TextEncoder().encode("{}"));
    expect(() => decrypt(randomKey(), stored)).toThrow(/does not authenticate \(MAC mismatch\)/);
  });

  it("rejects truncated input clearly, as input that retrying cannot fix", () => {
    const tooShort = resticVector.stored.subarray(0, RESTIC_ENCRYPTION_OVERHEAD - 1);
    let caught: unknown;
    try {
      decrypt(resticVector.key, tooShort);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ResticMacError);
    expect(caught).toBeInstanceOf(InvalidInputError);
    expect((caught as ResticMacError).code).toBe("restic-mac-mismatch");
    expect((caught as Error).message).toMatch(/31 bytes, shorter than the 32 bytes of IV and MAC: truncated/);

    const lastByteCut = resticVector.stored.subarray(0, resticVector.stored.length - 1);
    expect(() => decrypt(resticVector.key, lastByteCut)).toThrow(ResticMacError);
    expect(() => decrypt(resticVector.key, new Uint8Array())).toThrow(/0 bytes/);
  });

  it("refuses an all-zero IV, which restic rejects", () => {
    const key = randomKey();
    expect(() => encrypt(key, new Uint8Array(1), new Uint8Array(16))).toThrow(/all-zero IV/);
    const stored = encrypt(key, new Uint8Array(1));
    stored.fill(0, 0, 16);
    expect(() => decrypt(key, stored)).toThrow(ResticMacError);
  });
});
