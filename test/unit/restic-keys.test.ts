import { randomBytes, scryptSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../shared/errors";
import { encrypt, type MasterKey } from "../../shared/restic/crypto";
import { WrongPasswordError } from "../../shared/restic/errors";
import { openMasterKey, openRepository } from "../../shared/restic/keys";

/** Cheap scrypt parameters: the derivation is the same whatever N is, only slower. */
const FAST = { N: 1024, r: 8, p: 1 };

/** A key file as restic's AddKey writes it, for `password`, holding `master`. */
function keyFile(password: string, master: MasterKey, params: { N: number; r: number; p: number } = FAST): string {
  const salt = randomBytes(64);
  const derived = new Uint8Array(scryptSync(password, salt, 64, params));
  const userKey = { encrypt: derived.subarray(0, 32), macK: derived.subarray(32, 48), macR: derived.subarray(48) };
  const masterJson = JSON.stringify({
    mac: { k: Buffer.from(master.macK).toString("base64"), r: Buffer.from(master.macR).toString("base64") },
    encrypt: Buffer.from(master.encrypt).toString("base64"),
  });
  return JSON.stringify({
    created: "2025-01-02T03:04:05.123456789+01:00",
    username: "root",
    hostname: "ws1",
    kdf: "scrypt",
    ...params,
    salt: salt.toString("base64"),
    data: Buffer.from(encrypt(userKey, new TextEncoder().encode(masterJson))).toString("base64"),
  });
}

const randomMaster = (): MasterKey => ({
  encrypt: new Uint8Array(randomBytes(32)),
  macK: new Uint8Array(randomBytes(16)),
  macR: new Uint8Array(randomBytes(16)),
});

describe("opening restic key files", () => {
  it("opens a key file with its password, as text or bytes", async () => {
    const master = randomMaster();
    const file = keyFile("correct horse", master);
    expect(await openMasterKey(file, "correct horse")).toEqual(master);
    expect(await openMasterKey(new TextEncoder().encode(file), "correct horse")).toEqual(master);
  });

  it("says the password is wrong, as a WrongPasswordError, when it is", async () => {
    const attempt = openMasterKey(keyFile("right", randomMaster()), "wrong");
    await expect(attempt).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(attempt).rejects.toMatchObject({ code: "restic-wrong-password" });
  });

  it("reports a malformed key file as invalid input naming what is wrong, not as a wrong password", async () => {
    const broken = { ...JSON.parse(keyFile("pw", randomMaster())), kdf: "argon2", salt: "c2hvcnQ=" };
    const attempt = openMasterKey(JSON.stringify(broken), "pw");
    await expect(attempt).rejects.toThrow(/invalid restic key file: kdf: .*; salt: salt must be 64 bytes/);
    await expect(attempt).rejects.not.toBeInstanceOf(WrongPasswordError);
    await expect(openMasterKey("not json", "pw")).rejects.toThrow("restic key file is not valid JSON");
  });

  it("refuses scrypt parameters that would take gigabytes, before running scrypt", async () => {
    const costly = { ...JSON.parse(keyFile("pw", randomMaster())), N: 2 ** 24, r: 64 };
    await expect(openMasterKey(JSON.stringify(costly), "pw")).rejects.toMatchObject({
      code: "restic-key-too-costly",
      message: expect.stringMatching(/asks scrypt for 13107\d MiB \(N=16777216, r=64, p=1\), over the 256 MiB allowed/),
    });
    // What the old 1 GiB ceiling let through and a 512 MB indexer cannot survive.
    const halfGig = { ...JSON.parse(keyFile("pw", randomMaster())), N: 2 ** 19, r: 8 };
    await expect(openMasterKey(JSON.stringify(halfGig), "pw")).rejects.toMatchObject({ code: "restic-key-too-costly" });
  });

  it("opens a repository with whichever of its keys the password opens", async () => {
    const master = randomMaster();
    async function* keys() {
      yield keyFile("alice's password", master);
      yield new TextEncoder().encode(keyFile("bob's password", master));
    }
    expect(await openRepository(keys(), "bob's password")).toEqual(master);
    expect(await openRepository([keyFile("alice's password", master)], "alice's password")).toEqual(master);
  });

  it("says no key opens when none does", async () => {
    const keys = [keyFile("a", randomMaster()), keyFile("b", randomMaster())];
    const attempt = openRepository(keys, "c");
    await expect(attempt).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(attempt).rejects.toThrow("no key in the repository opens with this password (tried 2 key files)");
  });

  it("reports an unreadable key file ahead of a wrong password, but still opens with a good key after it", async () => {
    const master = randomMaster();
    await expect(openRepository(["{}", keyFile("a", master)], "a")).resolves.toEqual(master);
    const attempt = openRepository(["{}", keyFile("a", master)], "b");
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(/invalid restic key file/);
  });

  it("says a repository without key files has none", async () => {
    await expect(openRepository([], "pw")).rejects.toMatchObject({ code: "restic-no-keys" });
  });
});
