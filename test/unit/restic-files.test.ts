import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../shared/errors";
import { decrypt, encrypt, type MasterKey } from "../../shared/restic/crypto";
import { ResticFormatError, ResticMacError } from "../../shared/restic/errors";
import {
  decodeConfig,
  decodeLock,
  decodeSnapshot,
  decodeUnpackedFile,
  encodeLock,
  encodeUnpackedFile,
  isStaleLock,
  type Lock,
  RESTIC_LOCK_REFRESHABLE_FOR_MS,
  resticFileId,
} from "../../shared/restic/files";
import { compareResticTimes, formatResticTime, parseResticTime } from "../../shared/restic/time";

const key: MasterKey = { encrypt: randomBytes(32), macK: randomBytes(16), macR: randomBytes(16) };
const bytes = (text: string) => new TextEncoder().encode(text);
const storedPlaintext = (...parts: (string | number[])[]) =>
  encrypt(key, Uint8Array.from(parts.flatMap((part) => (typeof part === "string" ? [...bytes(part)] : part))));

const snapshot = {
  time: "2025-01-02T03:04:05.123456789+01:00",
  tree: "a".repeat(64),
  paths: ["/home/john/work"],
  hostname: "ws1",
  tags: ["workspace-id:abc"],
  added_by_a_newer_restic: { kept: true },
};

describe("restic file names", () => {
  it("are the lowercase hex SHA-256 of the stored bytes", () => {
    expect(resticFileId(bytes("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("restic unpacked files", () => {
  it("round-trip through encode and decode, uncompressed, in both repository versions", () => {
    for (const version of [1, 2] as const) {
      const stored = encodeUnpackedFile(key, snapshot, version);
      expect(decrypt(key, stored)[0]).toBe("{".charCodeAt(0));
      expect(decodeUnpackedFile(key, stored)).toEqual(snapshot);
    }
    expect(decodeUnpackedFile(key, encodeUnpackedFile(key, [1, 2], 2))).toEqual([1, 2]);
  });

  it("refuses a repository version it does not know, and a JSON value restic cannot tell from compressed data", () => {
    expect(() => encodeUnpackedFile(key, {}, 3 as 2)).toThrow(ResticFormatError);
    expect(() => encodeUnpackedFile(key, "text", 2)).toThrow(/JSON object or array/);
  });

  it("names an unknown encoding byte", () => {
    expect(() => decodeUnpackedFile(key, storedPlaintext([7], "{}"))).toThrow(
      /starts with encoding byte 0x07, which is neither JSON nor zstd \(2\)/,
    );
    expect(() => decodeUnpackedFile(key, storedPlaintext(""))).toThrow("the restic file decrypts to nothing");
  });

  it("says so when zstd data does not decompress or the JSON is broken", () => {
    const garbledZstd = () => decodeUnpackedFile(key, storedPlaintext([2, 0x28, 0xb5, 0x2f, 0xfd], "garbage"));
    expect(garbledZstd).toThrow(ResticFormatError);
    expect(garbledZstd).toThrow("zstd-compressed content does not decompress");
    expect(() => decodeUnpackedFile(key, storedPlaintext('{"time": '))).toThrow("does not hold valid UTF-8 JSON");
    expect(() => decodeUnpackedFile(key, storedPlaintext("{", [0xff], "}"))).toThrow("does not hold valid UTF-8 JSON");
  });

  it("fails the MAC before looking at the content", () => {
    const stored = encodeUnpackedFile(key, snapshot, 2);
    stored[20] = (stored[20] ?? 0) ^ 1;
    expect(() => decodeUnpackedFile(key, stored)).toThrow(ResticMacError);
  });
});

describe("restic snapshots", () => {
  it("keep restic's time string and fields a newer restic adds", () => {
    const decoded = decodeSnapshot(key, encodeUnpackedFile(key, snapshot, 2));
    expect(decoded.time).toBe(snapshot.time);
    expect(decoded.added_by_a_newer_restic).toEqual({ kept: true });
    expect(decoded.parent).toBeUndefined();
  });

  it("read null paths (a Go nil slice) as none", () => {
    expect(decodeSnapshot(key, encodeUnpackedFile(key, { ...snapshot, paths: null }, 2)).paths).toEqual([]);
  });

  it("are invalid input, naming the fields, when the JSON is not a snapshot", () => {
    const attempt = () =>
      decodeSnapshot(key, encodeUnpackedFile(key, { ...snapshot, tree: "abc", time: "yesterday" }, 2));
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(/invalid restic snapshot: time: not a restic \(RFC 3339\) time; tree: not a restic id/);
  });
});

describe("restic config", () => {
  it("decodes the version, id and chunker polynomial, and refuses versions restic does not know", () => {
    const config = { version: 2, id: "b".repeat(64), chunker_polynomial: "3da3358b4dc173" };
    expect(decodeConfig(key, encrypt(key, bytes(JSON.stringify(config))))).toEqual(config);
    expect(() => decodeConfig(key, encrypt(key, bytes(JSON.stringify({ ...config, version: 3 }))))).toThrow(
      /invalid restic config: version/,
    );
  });
});

describe("restic times", () => {
  it("keep nanoseconds and order across zone offsets", () => {
    const time = parseResticTime("2025-01-02T03:04:05.123456789+01:00");
    expect(time.original).toBe("2025-01-02T03:04:05.123456789+01:00");
    expect(time.date.toISOString()).toBe("2025-01-02T02:04:05.123Z");
    expect(time.sortableUtc).toBe("2025-01-02T02:04:05.123456789Z");
    expect(time.epochNanoseconds).toBe(1735783445123456789n);

    // Later by one nanosecond, but earlier written in its zone: ordering follows the instant.
    expect(compareResticTimes("2025-01-02T02:04:05.12345679Z", "2025-01-02T03:04:05.123456789+01:00")).toBe(1);
    expect(compareResticTimes("2025-01-01T22:04:05-04:00", "2025-01-02T02:04:05Z")).toBe(0);
    expect(parseResticTime("2025-01-01T22:04:05-04:00").sortableUtc).toBe("2025-01-02T02:04:05.000000000Z");
  });

  it("reject strings that are not RFC 3339 or not real dates", () => {
    for (const text of ["2025-01-02 03:04:05", "2025-02-30T00:00:00Z", "2025-01-02T03:04:05.1234567890Z", ""]) {
      expect(() => parseResticTime(text), text).toThrow(ResticFormatError);
    }
  });

  it("format as something restic parses back to the same instant", () => {
    const date = new Date("2025-06-01T12:00:00.250Z");
    expect(parseResticTime(formatResticTime(date)).date).toEqual(date);
  });
});

describe("restic locks", () => {
  const lock: Lock = {
    time: "2025-06-01T12:00:00.5+02:00",
    exclusive: true,
    hostname: "restorable-lambda",
    username: "restorable",
    pid: 4242,
  };
  const lockTime = parseResticTime(lock.time).date.getTime();
  const at = (millisecondsAfterLock: number) => new Date(lockTime + millisecondsAfterLock);
  const thirtyMinutes = 30 * 60 * 1000;

  it("round-trip through encode and decode", () => {
    const stored = encodeLock(key, lock, 2);
    expect(decodeLock(key, stored)).toEqual(lock);
    expect(resticFileId(stored)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuse to encode what restic could not read", () => {
    expect(() => encodeLock(key, { ...lock, time: "now" }, 2)).toThrow(/invalid restic lock: time/);
  });

  it("turn stale only after 30 minutes without a refresh, wherever they were made", () => {
    expect(isStaleLock(lock, at(thirtyMinutes))).toBe(false);
    expect(isStaleLock(lock, at(thirtyMinutes + 1))).toBe(true);
    expect(isStaleLock(lock, at(-thirtyMinutes))).toBe(false);
  });

  it("are stale at once when made on the judging host by a process that is gone, as restic judges its own host", () => {
    const gone = { hostname: "restorable-lambda", isProcessAlive: () => false };
    const alive = { hostname: "restorable-lambda", isProcessAlive: (pid: number) => pid === 4242 };
    const elsewhere = { hostname: "another-host", isProcessAlive: () => false };
    expect(isStaleLock(lock, at(1000), gone)).toBe(true);
    expect(isStaleLock(lock, at(1000), alive)).toBe(false);
    expect(isStaleLock(lock, at(1000), elsewhere)).toBe(false);
  });

  it("must be refreshed by their holder with margin to spare before they turn stale", () => {
    expect(RESTIC_LOCK_REFRESHABLE_FOR_MS).toBe(22.5 * 60 * 1000);
  });
});
