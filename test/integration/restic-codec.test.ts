import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decrypt, type MasterKey } from "../../shared/restic/crypto";
import { WrongPasswordError } from "../../shared/restic/errors";
import {
  decodeConfig,
  decodeSnapshot,
  encodeLock,
  isStaleLock,
  type Lock,
  RESTIC_STALE_LOCK_AFTER_MS,
  resticFileId,
} from "../../shared/restic/files";
import { openRepository } from "../../shared/restic/keys";
import { compareResticTimes, formatResticTime } from "../../shared/restic/time";
import { makeResticFixture, type ResticAccess, type ResticFixture, restic, resticJson } from "../support/restic";

const PASSWORD = "correct horse battery staple";
const VERSIONS = [1, 2] as const;
type Version = (typeof VERSIONS)[number];

/** A zone with an offset, so that restic's times carry one (+01:00 in January) and parsing must honour it. */
const RESTIC_ENV = { TZ: "Europe/Berlin" };

let root: string;
const fixtures = new Map<Version, ResticFixture>();
const masterKeys = new Map<Version, Promise<MasterKey>>();

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "restorable-restic-codec-"));
  await Promise.all(
    VERSIONS.map(async (version) => {
      const fixture = await makeResticFixture({
        repository: path.join(root, `v${version}`),
        password: PASSWORD,
        env: RESTIC_ENV,
        repositoryVersion: version,
      });
      fixtures.set(version, fixture);
    }),
  );
});

afterAll(async () => {
  await Promise.all([...fixtures.values()].map((fixture) => fixture.cleanup()));
  if (root) await rm(root, { recursive: true, force: true });
});

function fixture(version: Version): ResticFixture {
  const found = fixtures.get(version);
  if (!found) throw new Error(`no fixture for version ${version}`);
  return found;
}

async function filesIn(repository: string, directory: string): Promise<{ name: string; bytes: Uint8Array }[]> {
  const names = await readdir(path.join(repository, directory));
  return Promise.all(
    names.map(async (name) => ({
      name,
      bytes: new Uint8Array(await readFile(path.join(repository, directory, name))),
    })),
  );
}

/** Opened once per repository: scrypt with restic's calibrated parameters is the slow part. */
function masterKey(version: Version): Promise<MasterKey> {
  let key = masterKeys.get(version);
  if (!key) {
    const repository = fixture(version).access.repository;
    key = filesIn(repository, "keys").then((keys) =>
      openRepository(
        keys.map((file) => file.bytes),
        PASSWORD,
      ),
    );
    masterKeys.set(version, key);
  }
  return key;
}

describe.each(VERSIONS)("a format version %i repository written by restic", (version) => {
  it("opens with the password and has the config restic wrote", async () => {
    const key = await masterKey(version);
    const config = decodeConfig(
      key,
      new Uint8Array(await readFile(path.join(fixture(version).access.repository, "config"))),
    );
    expect(config.version).toBe(version);
    expect(config.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("decodes every snapshot file exactly as `restic snapshots --json` shows it", async () => {
    const { access, snapshotIds } = fixture(version);
    const key = await masterKey(version);
    const listed = await resticJson<({ id: string; short_id: string } & Record<string, unknown>)[]>(
      ["snapshots", "--no-lock"],
      access,
    );
    const files = await filesIn(access.repository, "snapshots");

    expect(files.map((file) => file.name).sort()).toEqual([...snapshotIds].sort());
    expect(listed.map((snapshot) => snapshot.id).sort()).toEqual([...snapshotIds].sort());
    for (const file of files) {
      expect(resticFileId(file.bytes), "file named by its hash").toBe(file.name);
      const decoded = decodeSnapshot(key, file.bytes);
      const { short_id: _short, ...shown } = listed.find((snapshot) => snapshot.id === file.name) ?? {};
      expect({ id: file.name, ...decoded }).toEqual(shown);
    }

    const [first, second] = snapshotIds.map((id) => {
      const file = files.find((each) => each.name === id);
      if (!file) throw new Error(`snapshot ${id} has no file`);
      return decodeSnapshot(key, file.bytes);
    });
    expect(first?.time).toBe("2025-01-02T03:04:05+01:00");
    expect(first?.hostname).toBe("ws1");
    expect(first?.tags).toEqual(["workspace-id:abc", "workspace-owner:john"]);
    expect(first?.paths).toEqual([fixture(version).sourceDirectory]);
    expect(first?.program_version).toMatch(/^restic \d+\.\d+\.\d+/);
    expect(first?.summary?.files_new).toBe(2);
    expect(first?.parent).toBeUndefined();
    expect(second?.parent).toBe(snapshotIds[0]);
    expect(second?.summary?.files_changed).toBe(1);
    expect(compareResticTimes(second?.time ?? "", first?.time ?? "")).toBe(1);
  });

  it(
    version === 2
      ? "finds the snapshots zstd-compressed (encoding byte 2), as restic writes them in version 2"
      : "finds the snapshots as raw JSON, the only encoding of version 1",
    async () => {
      const key = await masterKey(version);
      for (const file of await filesIn(fixture(version).access.repository, "snapshots")) {
        expect(decrypt(key, file.bytes)[0]).toBe(version === 2 ? 2 : "{".charCodeAt(0));
      }
    },
  );

  it("says the password is wrong when it is", async () => {
    const keys = await filesIn(fixture(version).access.repository, "keys");
    await expect(
      openRepository(
        keys.map((file) => file.bytes),
        "not the password",
      ),
    ).rejects.toBeInstanceOf(WrongPasswordError);
  });

  it("writes locks restic reads, honours and judges stale as we do", async () => {
    // A copy, so that the locks written here do not reach the other tests' repository.
    const repository = path.join(root, `v${version}-locks`);
    await cp(fixture(version).access.repository, repository, { recursive: true });
    const access: ResticAccess = { ...fixture(version).access, repository };
    const key = await masterKey(version);
    const { version: repositoryVersion } = decodeConfig(
      key,
      new Uint8Array(await readFile(path.join(repository, "config"))),
    );

    const now = new Date();
    // Another host, so restic judges only by age (its same-host rule would probe pid 4242 here).
    const held: Lock = {
      time: formatResticTime(now),
      exclusive: true,
      hostname: "restorable-elsewhere",
      username: "restorable",
      pid: 4242,
    };
    const abandoned: Lock = {
      ...held,
      exclusive: false,
      time: formatResticTime(new Date(now.getTime() - RESTIC_STALE_LOCK_AFTER_MS - 60_000)),
    };
    const lockIds = new Map<Lock, string>();
    for (const lock of [held, abandoned]) {
      const stored = encodeLock(key, lock, repositoryVersion);
      lockIds.set(lock, resticFileId(stored));
      await writeFile(path.join(repository, "locks", resticFileId(stored)), stored);
    }
    const heldId = lockIds.get(held) ?? "";
    const abandonedId = lockIds.get(abandoned) ?? "";

    const listed = async () => (await restic(["list", "locks", "--no-lock"], access)).trim().split("\n").sort();
    expect(await listed()).toEqual([heldId, abandonedId].sort());

    const { time: shownTime, ...shown } = JSON.parse(await restic(["cat", "lock", heldId, "--no-lock"], access));
    const { time: heldTime, ...heldRest } = held;
    expect(shown).toEqual(heldRest);
    // restic re-encodes the time (trailing zeros dropped), the instant stays the same.
    expect(compareResticTimes(shownTime, heldTime)).toBe(0);

    await expect(restic(["backup", fixture(version).sourceDirectory], access)).rejects.toThrow(
      /repository is already locked exclusively by PID 4242 on restorable-elsewhere by restorable/,
    );

    expect(isStaleLock(held, new Date())).toBe(false);
    expect(isStaleLock(abandoned, new Date())).toBe(true);
    await restic(["unlock"], access);
    expect(await listed()).toEqual([heldId]);
  });
});
