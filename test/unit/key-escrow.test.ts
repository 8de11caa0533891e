import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  combineShares,
  parseShareFile,
  type ShareFile,
  ShareFileError,
  ShareFileSchema,
  ShareSetError,
  ShareVerificationError,
  type SourcedShare,
  serializeShareFile,
  shareFileName,
  splitMasterKey,
  withChecksum,
} from "../../shared/keys/escrow";
import { masterKeyFingerprint } from "../../shared/keys/master-key";

const NOW = new Date("2025-06-01T12:00:00.000Z");

function secretString(keyId?: string): string {
  return JSON.stringify({ key: randomBytes(32).toString("base64"), ...(keyId ? { keyId } : {}) });
}

/** Each share as an administrator holds it: written out, then read back from its file. */
function sourced(files: ShareFile[]): SourcedShare[] {
  return files.map((file) => {
    const source = shareFileName(file);
    return { source, file: parseShareFile(serializeShareFile(file), source) };
  });
}

/** What a deliberate tamper looks like: one byte of the share changed and the checksum made to match again. */
function tampered(file: ShareFile, position: number): ShareFile {
  const point = Buffer.from(file.share, "base64");
  point[position] = (point[position] ?? 0) ^ 0x01;
  const { checksum: _, ...content } = file;
  return withChecksum({ ...content, share: point.toString("base64") });
}

function subsetsOf<T>(items: T[], size: number): T[][] {
  if (size === 0) return [[]];
  return items.flatMap((item, i) => subsetsOf(items.slice(i + 1), size - 1).map((rest) => [item, ...rest]));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("splitting the master key into share files", () => {
  it("writes self-describing share files that never contain the key", async () => {
    const secret = secretString("codebolt-2025");
    const { key } = JSON.parse(secret) as { key: string };
    const files = await splitMasterKey(secret, { shares: 5, threshold: 3, now: NOW });

    expect(files.map((file) => file.index)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(files.map((file) => file.splitId)).size).toBe(1);
    for (const file of files) {
      expect(ShareFileSchema.parse(file)).toEqual(file);
      expect(file).toMatchObject({
        format: "restorable-master-key-share",
        version: 1,
        keyId: "codebolt-2025",
        fingerprint: masterKeyFingerprint(key),
        shares: 5,
        threshold: 3,
        createdAt: NOW.toISOString(),
      });
      expect(file.note).toContain("restorable key combine");
      const text = serializeShareFile(file);
      expect(text).not.toContain(key);
      expect(text).not.toContain(Buffer.from(key).toString("base64"));
      expect(shareFileName(file)).toBe(`${file.fingerprint}-share-${file.index}-of-5.json`);
    }
  });

  it("refuses a threshold of one or above the number of shares", async () => {
    const secret = secretString();
    await expect(splitMasterKey(secret, { shares: 5, threshold: 1, now: NOW })).rejects.toThrow(ShareSetError);
    await expect(splitMasterKey(secret, { shares: 3, threshold: 4, now: NOW })).rejects.toThrow(
      /threshold must be between 2 and the number of shares \(3\)/,
    );
  });

  it("refuses a secret that is not a master key secret", async () => {
    await expect(splitMasterKey('{"password":"x"}', { shares: 3, threshold: 2, now: NOW })).rejects.toThrow(
      /invalid master key secret/,
    );
  });
});

describe("combining share files", () => {
  it("rebuilds exactly the stored secret, keyId included, from any 3 of 5 shares", async () => {
    const secret = secretString("codebolt-2025");
    const shares = sourced(await splitMasterKey(secret, { shares: 5, threshold: 3, now: NOW }));
    const subsets = subsetsOf(shares, 3);
    expect(subsets).toHaveLength(10);
    for (const subset of subsets) {
      const rebuilt = await combineShares(subset);
      expect(rebuilt.secretString).toBe(secret);
      expect(rebuilt.secret).toEqual(JSON.parse(secret));
      expect(rebuilt.keyId).toBe("codebolt-2025");
      expect(rebuilt.sources).toEqual(subset.map((share) => share.source));
    }
    expect((await combineShares(shares)).secretString).toBe(secret);
  });

  it("uses the fingerprint as the key's id when the secret has no keyId", async () => {
    const secret = secretString();
    const shares = sourced(await splitMasterKey(secret, { shares: 3, threshold: 2, now: NOW }));
    const rebuilt = await combineShares(shares.slice(1));
    expect(rebuilt.secretString).toBe(secret);
    expect(rebuilt.keyId).toBe(rebuilt.fingerprint);
  });

  it("refuses threshold - 1 shares, saying how many are needed", async () => {
    const shares = sourced(await splitMasterKey(secretString("k1"), { shares: 5, threshold: 3, now: NOW }));
    const error = await rejection(combineShares(shares.slice(0, 2)));
    expect(error).toBeInstanceOf(ShareSetError);
    expect(error.message).toBe("3 shares are needed to rebuild the master key k1, 2 given");
  });

  it("names a deliberately tampered share (checksum recomputed) when more shares than needed are given", async () => {
    const secret = secretString("k1");
    const files = await splitMasterKey(secret, { shares: 5, threshold: 3, now: NOW });
    // A byte inside the key material: the share file itself is consistent, only the fingerprint can tell.
    const forged = files.map((file) => (file.index === 2 ? tampered(file, 12) : file));
    const shares = sourced(forged);

    const error = await rejection(combineShares(shares));
    expect(error).toBeInstanceOf(ShareVerificationError);
    expect((error as ShareVerificationError).suspects).toEqual([shares[1]?.source]);
    expect(error.message).toMatch(/^share 2 \(mk-[0-9a-f]{16}-share-2-of-5\.json\) disagrees with the others/);
    expect(error.message).not.toContain(JSON.parse(secret).key);

    const fourWithTheForgery = await rejection(combineShares(shares.slice(0, 4)));
    expect((fourWithTheForgery as ShareVerificationError).suspects).toEqual([shares[1]?.source]);
  });

  it("detects a tampered share among exactly threshold shares, without being able to name it", async () => {
    const files = await splitMasterKey(secretString("k1"), { shares: 5, threshold: 3, now: NOW });
    const shares = sourced([tampered(files[0] as ShareFile, 12), files[1] as ShareFile, files[2] as ShareFile]);
    const error = await rejection(combineShares(shares));
    expect(error).toBeInstanceOf(ShareVerificationError);
    expect(error.message).toMatch(
      // The changed byte of the result may break the JSON or the key; either way it is not the key.
      /^the shares do not rebuild the master key k1: (its fingerprint is mk-[0-9a-f]{16}, not mk-[0-9a-f]{16}|the result is not a master key secret)\. At least one of them has been altered; give more than 3 shares to find out which$/,
    );
    expect((error as ShareVerificationError).suspects).toEqual([]);
  });

  it("detects a tamper of any byte of a share, key, keyId, JSON or share point alike", async () => {
    const files = await splitMasterKey(secretString("codebolt-2025"), { shares: 5, threshold: 3, now: NOW });
    const length = Buffer.from((files[0] as ShareFile).share, "base64").length;
    for (let position = 0; position < length; position++) {
      const shares = sourced(files.map((file) => (file.index === 4 ? tampered(file, position) : file)));
      const error = await rejection(combineShares(shares));
      expect(error, `byte ${position}`).toBeInstanceOf(ShareVerificationError);
      expect((error as ShareVerificationError).suspects, `byte ${position}`).toContain(shares[3]?.source);
    }
  });

  it("names shares when several are tampered but enough honest ones remain", async () => {
    const files = await splitMasterKey(secretString("k1"), { shares: 5, threshold: 2, now: NOW });
    const shares = sourced(files.map((file) => (file.index % 2 === 0 ? tampered(file, 9) : file)));
    const error = await rejection(combineShares(shares));
    expect((error as ShareVerificationError).suspects).toEqual([shares[1]?.source, shares[3]?.source]);
    expect(error.message).toMatch(/^shares 2 \(.*\) and 4 \(.*\) disagree with the others/);
  });

  it("says so when no subset of the shares rebuilds the key", async () => {
    const files = await splitMasterKey(secretString("k1"), { shares: 4, threshold: 3, now: NOW });
    const shares = sourced(files.map((file) => (file.index <= 2 ? tampered(file, 9) : file)));
    await expect(combineShares(shares)).rejects.toThrow(
      /^no 3 of the 4 shares rebuild the master key k1 .*: more than 1 of them have been altered/,
    );
  });
});

describe("reading share files", () => {
  it("detects an accidentally damaged file through its own checksum", async () => {
    const [file] = await splitMasterKey(secretString("k1"), { shares: 3, threshold: 2, now: NOW });
    const text = serializeShareFile(file as ShareFile);
    const share = (file as ShareFile).share;
    const flipped = share[5] === "A" ? "B" : "A";
    const damaged = text.replace(share, `${share.slice(0, 5)}${flipped}${share.slice(6)}`);
    expect(damaged).not.toBe(text);
    expect(() => parseShareFile(damaged, "share-1.json")).toThrow(ShareFileError);
    expect(() => parseShareFile(damaged, "share-1.json")).toThrow(
      "share-1.json is damaged: its checksum does not match its content (share 1 of key k1)",
    );
    expect(() => parseShareFile(text.replace('"threshold": 2', '"threshold": 3'), "share-1.json")).toThrow(
      /checksum does not match/,
    );
  });

  it("accepts a file whose fields were reordered or re-indented", async () => {
    const [file] = await splitMasterKey(secretString("k1"), { shares: 3, threshold: 2, now: NOW });
    const { checksum, ...rest } = file as ShareFile;
    const reordered = JSON.stringify({ checksum, ...Object.fromEntries(Object.entries(rest).reverse()) });
    expect(parseShareFile(reordered, "share.json")).toEqual(file);
  });

  it("refuses files that are not share files, or of a newer format", () => {
    expect(() => parseShareFile("not json", "x.json")).toThrow("x.json is not a share file: it is not valid JSON");
    expect(() => parseShareFile('{"key":"abc"}', "x.json")).toThrow("x.json is not a restorable master key share file");
    expect(() => parseShareFile('{"format":"restorable-master-key-share","version":2}', "x.json")).toThrow(
      "x.json is a share file of format version 2; this restorable reads version 1",
    );
    expect(() => parseShareFile('{"format":"restorable-master-key-share","version":1}', "x.json")).toThrow(
      /^x\.json is damaged: invalid share file: /,
    );
  });
});

describe("shares that do not belong together", () => {
  it("refuses shares of two different keys", async () => {
    const first = sourced(await splitMasterKey(secretString("k1"), { shares: 3, threshold: 2, now: NOW }));
    const second = sourced(await splitMasterKey(secretString("k2"), { shares: 3, threshold: 2, now: NOW }));
    const error = await rejection(combineShares([first[0], second[1]] as SourcedShare[]));
    expect(error).toBeInstanceOf(ShareSetError);
    expect(error.message).toMatch(/^the share files do not belong together, they are shares of different keys: /);
    expect(error.message).toContain(`${first[0]?.source} of the master key k1`);
    expect(error.message).toContain(`${second[1]?.source} of the master key k2`);
  });

  it("refuses shares of two splits of the same key", async () => {
    const secret = secretString("k1");
    const first = sourced(await splitMasterKey(secret, { shares: 3, threshold: 2, now: NOW }));
    const second = sourced(await splitMasterKey(secret, { shares: 3, threshold: 2, now: NOW }));
    await expect(combineShares([first[0], second[1]] as SourcedShare[])).rejects.toThrow(
      /do not belong together, they come from different splits of the key/,
    );
  });

  it("counts a share given twice once, and says so", async () => {
    const shares = sourced(await splitMasterKey(secretString("k1"), { shares: 3, threshold: 2, now: NOW }));
    const again = { source: "copy-of-share-1.json", file: shares[0]?.file as ShareFile };
    await expect(combineShares([shares[0] as SourcedShare, again])).rejects.toThrow(
      /^share 1 is given 2 times \(.*, copy-of-share-1\.json\): each share counts once/,
    );
  });
});
