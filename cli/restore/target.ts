import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { InvalidInputError } from "../../shared/errors";

/**
 * Everything a restore writes before it is verified carries this prefix, in the target directory itself (so
 * the final rename never crosses file systems); a name without it is only ever a verified component.
 */
export const PARTIAL_PREFIX = ".restorable-partial-";
/** Written first and removed last: a target holding it is a restore of that set that did not finish. */
export const RESTORE_MARKER = ".restorable-restore.json";

export class TargetNotEmptyError extends InvalidInputError {}

/** The temporary name of a component's file or unpacking directory. */
export function partialPath(to: string, name: string): string {
  return path.join(to, `${PARTIAL_PREFIX}${name}`);
}

/**
 * Makes the target ready for a restore of `setId`: creates it, refuses one that holds anything else (unless
 * `force`), and clears what an interrupted restore left (its partial files, never a final-named one). A target
 * holding only an unfinished restore of the same set is taken without `force`, so the same command restarts it.
 */
export async function prepareTarget(to: string, setId: string, force: boolean): Promise<{ resumed: boolean }> {
  const info = await stat(to).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (info && !info.isDirectory()) throw new InvalidInputError("target-not-a-directory", `not a directory: ${to}`);
  await mkdir(to, { recursive: true });
  const entries = await readdir(to);
  const unfinished = entries.includes(RESTORE_MARKER) ? await markedSet(to) : undefined;
  const resumed = unfinished === setId;
  // What an unfinished restore of this very set wrote is its own; anything else belongs to someone.
  const others = resumed ? [] : entries.filter((entry) => !entry.startsWith(PARTIAL_PREFIX));
  if (!force && others.length > 0) {
    throw new TargetNotEmptyError(
      "target-not-empty",
      `${to} is not empty (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""}): restore into a new ` +
        "or empty directory, or pass --force to replace what is there under the set's names",
    );
  }
  for (const entry of entries.filter((e) => e.startsWith(PARTIAL_PREFIX))) {
    await rm(path.join(to, entry), { recursive: true, force: true });
  }
  await writeFile(
    path.join(to, RESTORE_MARKER),
    `${JSON.stringify({ setId, startedAt: new Date().toISOString(), note: "restorable restore did not finish here" })}\n`,
  );
  return { resumed };
}

/** The restore finished: the target holds exactly what was restored. */
export async function finishTarget(to: string): Promise<void> {
  await rm(path.join(to, RESTORE_MARKER), { force: true });
}

async function markedSet(to: string): Promise<string | undefined> {
  try {
    const marker = JSON.parse(await readFile(path.join(to, RESTORE_MARKER), "utf-8")) as { setId?: unknown };
    return typeof marker.setId === "string" ? marker.setId : "";
  } catch {
    return "";
  }
}
