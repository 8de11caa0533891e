import { execFile } from "node:child_process";
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { poly1305 } from "@noble/ciphers/_poly1305.js";

const run = promisify(execFile);

/**
 * A throwaway local restic repository for the retention differential test. Its only key is rewritten with
 * minimal scrypt parameters: restic calibrates scrypt to ~0.5 s per open, which would dominate thousands of
 * `restic backup` runs. restic reads N, r, p from the key file and accepts any valid value, as its own tests do.
 */
export class RetentionResticRepository {
  private constructor(
    readonly binary: string,
    readonly repository: string,
  ) {}

  static async create(binary: string, repository: string): Promise<RetentionResticRepository> {
    const repo = new RetentionResticRepository(binary, repository);
    await repo.restic(["init"]);
    await replaceKeyWithCheapKdf(repository);
    return repo;
  }

  /**
   * One snapshot of `source` at `time` ("YYYY-MM-DD HH:MM:SS"), which restic reads in the local time zone of
   * its process: `timeZone` (an IANA name) makes the stored time carry that zone's offset.
   *
   * restic backs up "." from inside `source`: an absolute target would also store the metadata of every
   * ancestor directory (/tmp changes all the time), so each backup would add a pack and an index file, and
   * every later restic run would read more index files than the one before.
   */
  async backup(snapshot: { source: string; time: string; host: string; tags: string[]; timeZone: string }) {
    const args = ["backup", "--force", "--time", snapshot.time, "--host", snapshot.host, "."];
    for (const tag of snapshot.tags) args.push("--tag", tag);
    await this.restic(args, { TZ: snapshot.timeZone }, snapshot.source);
  }

  async snapshots(): Promise<ResticSnapshotJson[]> {
    const { stdout } = await this.restic(["snapshots", "--json"]);
    return JSON.parse(stdout) as ResticSnapshotJson[];
  }

  /**
   * `forget --dry-run --json` leaves the repository as it was, so every policy sees the same snapshots.
   * restic runs in UTC: where its own zone matches a snapshot's offset, Go's AddDate follows that zone's
   * daylight saving rules for keep-within cutoffs, which a stored offset alone cannot tell.
   */
  async forgetDryRun(retentionFlags: string[]): Promise<ResticForgetGroupJson[]> {
    const { stdout } = await this.restic(["forget", "--dry-run", "--no-lock", ...retentionFlags], { TZ: "UTC" });
    // restic prints nothing at all (not "[]") when no group was formed.
    return stdout.trim() === "" ? [] : (JSON.parse(stdout) as ResticForgetGroupJson[]);
  }

  async restic(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<{ stdout: string; stderr: string }> {
    return run(this.binary, ["--json", "--quiet", "--insecure-no-password", "--no-cache", ...args], {
      cwd,
      env: {
        ...process.env,
        // A developer's own restic settings must not leak in: RESTIC_HOST would even filter forget's snapshots.
        RESTIC_HOST: undefined,
        RESTIC_REPOSITORY_FILE: undefined,
        RESTIC_PASSWORD_FILE: undefined,
        RESTIC_PASSWORD_COMMAND: undefined,
        RESTIC_PASSWORD: undefined,
        RESTIC_REPOSITORY: this.repository,
        ...env,
      },
      maxBuffer: 512 * 1024 * 1024,
    });
  }
}

export interface ResticSnapshotJson {
  id: string;
  time: string;
  hostname: string;
  paths: string[];
  tags?: string[];
}

export interface ResticForgetGroupJson {
  tags: string[] | null;
  host: string;
  paths: string[] | null;
  keep: ResticSnapshotJson[] | null;
  remove: ResticSnapshotJson[] | null;
  reasons: { snapshot: ResticSnapshotJson; matches: string[] }[] | null;
}

interface KeyFile {
  kdf: string;
  N: number;
  r: number;
  p: number;
  salt: string;
  data: string;
  [other: string]: unknown;
}

const CHEAP_SCRYPT = { N: 2, r: 1, p: 1 } as const;

async function replaceKeyWithCheapKdf(repository: string): Promise<void> {
  const keys = path.join(repository, "keys");
  const [name, ...others] = await readdir(keys);
  if (!name || others.length > 0) throw new Error(`expected one key file in ${keys}`);
  const keyFile = JSON.parse(await readFile(path.join(keys, name), "utf-8")) as KeyFile;
  const oldUserKey = deriveUserKey("", Buffer.from(keyFile.salt, "base64"), keyFile);
  const stored = Buffer.from(keyFile.data, "base64");
  // The MAC is not checked here: restic checks it the moment it opens the rewritten key.
  const masterKeyJson = aes256Ctr(oldUserKey.encrypt, stored.subarray(0, 16), stored.subarray(16, stored.length - 16));

  const salt = randomBytes(64);
  const newUserKey = deriveUserKey("", salt, CHEAP_SCRYPT);
  const iv = randomBytes(16);
  const ciphertext = aes256Ctr(newUserKey.encrypt, iv, masterKeyJson);
  const mac = poly1305Aes(newUserKey, iv, ciphertext);
  const rewritten = JSON.stringify({
    ...keyFile,
    ...CHEAP_SCRYPT,
    salt: salt.toString("base64"),
    data: Buffer.concat([iv, ciphertext, mac]).toString("base64"),
  });
  // Every repository file is named by the SHA-256 of its contents.
  await mkdir(keys, { recursive: true });
  await writeFile(path.join(keys, createHash("sha256").update(rewritten).digest("hex")), rewritten);
  await rm(path.join(keys, name));
}

interface UserKey {
  encrypt: Buffer;
  macK: Buffer;
  macR: Buffer;
}

function deriveUserKey(password: string, salt: Buffer, params: { N: number; r: number; p: number }): UserKey {
  const derived = scryptSync(password, salt, 64, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * 1024 * 1024,
  });
  return { encrypt: derived.subarray(0, 32), macK: derived.subarray(32, 48), macR: derived.subarray(48, 64) };
}

function aes256Ctr(key: Buffer, iv: Uint8Array, input: Uint8Array): Buffer {
  const cipher = createDecipheriv("aes-256-ctr", key, iv);
  return Buffer.concat([cipher.update(input), cipher.final()]);
}

/** Poly1305 with the one-time key `r || AES-128_k(iv)`, as restic's poly1305PrepareKey builds it. */
function poly1305Aes(key: UserKey, iv: Uint8Array, ciphertext: Uint8Array): Buffer {
  const nonceCipher = createCipheriv("aes-128-ecb", key.macK, null).setAutoPadding(false);
  const oneTimeKey = Buffer.concat([key.macR, nonceCipher.update(iv)]);
  return Buffer.from(poly1305(ciphertext, oneTimeKey));
}
