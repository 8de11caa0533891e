import { scrypt } from "node:crypto";
import * as z from "zod";
import { InvalidInputError } from "../errors";
import { parseJsonWith } from "../validation";
import { decrypt, type MasterKey } from "./crypto";
import { ResticMacError, WrongPasswordError } from "./errors";

/** restic rejects any other salt length (internal/crypto/kdf.go). */
const SALT_LENGTH = 64;
const USER_KEY_LENGTH = 64;

/**
 * Memory scrypt needs is 128·r·(N + p + 2) bytes (OpenSSL's accounting). restic calibrates new keys to at
 * most 60 MiB; the ceiling lets any key restic makes through while refusing, as a clean error, a key file
 * that would take the indexer (512 MB) or retention past its memory and crash it mid-batch.
 */
export const SCRYPT_MEMORY_CEILING = 256 * 1024 * 1024;

const Base64BytesSchema = z.base64().transform((text) => new Uint8Array(Buffer.from(text, "base64")));

/**
 * `keys/<id>`: the master key encrypted under a key derived from the password with scrypt. Loose, since
 * restic tolerates fields it does not know; created, username and hostname are informational only.
 */
export const KeyFileSchema = z.looseObject({
  created: z.string().optional(),
  username: z.string().optional(),
  hostname: z.string().optional(),
  kdf: z.literal("scrypt"),
  N: z
    .number()
    .int()
    .min(2)
    .refine((n) => Number.isInteger(Math.log2(n)), "N must be a power of two"),
  r: z.number().int().positive(),
  p: z.number().int().positive(),
  salt: Base64BytesSchema.refine((salt) => salt.length === SALT_LENGTH, `salt must be ${SALT_LENGTH} bytes`),
  data: Base64BytesSchema,
});
export type KeyFile = z.infer<typeof KeyFileSchema>;

/** The JSON the key file's `data` decrypts to (Go's encoding of crypto.Key: byte arrays as base64). */
const MasterKeyJsonSchema = z.looseObject({
  mac: z.looseObject({
    k: Base64BytesSchema.refine((k) => k.length === 16, "mac.k must be 16 bytes"),
    r: Base64BytesSchema.refine((r) => r.length === 16, "mac.r must be 16 bytes"),
  }),
  encrypt: Base64BytesSchema.refine((encrypt) => encrypt.length === 32, "encrypt must be 32 bytes"),
});

/**
 * Opens one key file with the password. Costly by design (scrypt with the key's own parameters, often
 * tens of MiB and hundreds of milliseconds): callers that open the same repository again should keep the
 * MasterKey rather than call this per file.
 */
export async function openMasterKey(keyFile: Uint8Array | string, password: string): Promise<MasterKey> {
  const text = typeof keyFile === "string" ? keyFile : new TextDecoder().decode(keyFile);
  const key = parseJsonWith(KeyFileSchema, text, "restic key file");
  const userKey = await deriveUserKey(key, password);
  let plaintext: Uint8Array;
  try {
    plaintext = decrypt(userKey, key.data);
  } catch (error) {
    if (error instanceof ResticMacError) {
      throw new WrongPasswordError("the password does not open this restic key file", { cause: error });
    }
    throw error;
  }
  const masterKey = parseJsonWith(MasterKeyJsonSchema, new TextDecoder().decode(plaintext), "restic master key");
  const opened = { encrypt: masterKey.encrypt, macK: masterKey.mac.k, macR: masterKey.mac.r };
  // restic refuses an all-zero key (crypto.Key.Valid): it would mean a broken writer, not a real key.
  if (![opened.encrypt, opened.macK, opened.macR].every((part) => part.some((byte) => byte !== 0))) {
    throw new InvalidInputError("invalid-restic-master-key", "the restic master key has an all-zero part");
  }
  return opened;
}

/**
 * Tries every key file, in order, until one opens. A key the password does not open is skipped; if none
 * opens, a key file that could not even be read is reported ahead of a wrong password, since that is a
 * problem with the repository that a right password would not fix.
 */
export async function openRepository(
  keyFiles: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>,
  password: string,
): Promise<MasterKey> {
  let tried = 0;
  let unreadable: InvalidInputError | undefined;
  let lastWrongPassword: WrongPasswordError | undefined;
  for await (const keyFile of keyFiles) {
    tried++;
    try {
      return await openMasterKey(keyFile, password);
    } catch (error) {
      if (error instanceof WrongPasswordError) lastWrongPassword = error;
      else if (error instanceof InvalidInputError) unreadable ??= error;
      else throw error;
    }
  }
  if (unreadable !== undefined) throw unreadable;
  if (tried === 0) throw new InvalidInputError("restic-no-keys", "the restic repository has no key files");
  throw new WrongPasswordError(
    `no key in the repository opens with this password (tried ${tried} key file${tried === 1 ? "" : "s"})`,
    { cause: lastWrongPassword },
  );
}

async function deriveUserKey(key: KeyFile, password: string): Promise<MasterKey> {
  const memory = 128 * key.r * (key.N + key.p + 2);
  if (memory > SCRYPT_MEMORY_CEILING) {
    throw new InvalidInputError(
      "restic-key-too-costly",
      `the restic key file asks scrypt for ${Math.ceil(memory / 2 ** 20)} MiB (N=${key.N}, r=${key.r}, p=${key.p}), over the ${SCRYPT_MEMORY_CEILING / 2 ** 20} MiB allowed`,
    );
  }
  let derived: Buffer;
  try {
    // The password goes in as UTF-8 bytes, unnormalized, as restic's []byte(password) does.
    derived = await new Promise<Buffer>((resolve, reject) => {
      scrypt(
        password,
        key.salt,
        USER_KEY_LENGTH,
        { N: key.N, r: key.r, p: key.p, maxmem: memory + 1024 * 1024 },
        (error, derivedKey) => (error ? reject(error) : resolve(derivedKey)),
      );
    });
  } catch (error) {
    throw new InvalidInputError(
      "invalid-restic-key-file",
      `scrypt refused the restic key file's parameters (N=${key.N}, r=${key.r}, p=${key.p})`,
      { cause: error },
    );
  }
  const bytes = new Uint8Array(derived);
  return { encrypt: bytes.subarray(0, 32), macK: bytes.subarray(32, 48), macR: bytes.subarray(48, 64) };
}
