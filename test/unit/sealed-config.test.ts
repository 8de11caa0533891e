import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SealedConfigError, SealedConfigSchema, sealConfig, unsealConfig } from "../../shared/drills/sealed-config";

const DRILL = "d-20261204T120000Z-0123abcd";
const CONFIG = JSON.stringify({ drillId: DRILL, drill: { password: "correct horse battery staple" } });

describe("a drill's sealed config", () => {
  it("opens with the key it was sealed with, and holds nothing of the config in the clear", () => {
    const { sealed, key } = sealConfig(DRILL, CONFIG);
    expect(SealedConfigSchema.parse(JSON.parse(JSON.stringify(sealed)))).toEqual(sealed);
    expect(JSON.stringify(sealed)).not.toContain("correct horse");
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(unsealConfig(sealed, key)).toBe(CONFIG);
  });

  it("gets a fresh key and nonce for every drill", () => {
    const first = sealConfig(DRILL, CONFIG);
    const second = sealConfig(DRILL, CONFIG);
    expect(first.key).not.toBe(second.key);
    expect(first.sealed.nonce).not.toBe(second.sealed.nonce);
  });

  it("does not open with another key, and says why", () => {
    const { sealed } = sealConfig(DRILL, CONFIG);
    expect(() => unsealConfig(sealed, randomBytes(32).toString("base64url"))).toThrow(
      /does not open with the key this instance was given/,
    );
  });

  it("does not open once a byte of it changed, or when it claims another drill", () => {
    const { sealed, key } = sealConfig(DRILL, CONFIG);
    const bytes = Buffer.from(sealed.ciphertext, "base64");
    bytes.writeUInt8(bytes.readUInt8(5) ^ 0x01, 5);
    expect(() => unsealConfig({ ...sealed, ciphertext: bytes.toString("base64") }, key)).toThrow(SealedConfigError);
    expect(() => unsealConfig({ ...sealed, drillId: "d-20261204T120000Z-ffffffff" }, key)).toThrow(SealedConfigError);
  });

  it("refuses a key that is not 32 bytes of base64url", () => {
    const { sealed } = sealConfig(DRILL, CONFIG);
    expect(() => unsealConfig(sealed, "short")).toThrow(/not a 32-byte base64url key/);
  });
});
