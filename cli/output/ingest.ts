import type { DeadLetter } from "../../shared/ingest/dead-letters";
import { printTable, shortTime } from "./format";

export function printDeadLetters(letters: (DeadLetter & { reason: string | null })[]): void {
  if (letters.length === 0) {
    console.log("The dead-letter queue is empty.");
    return;
  }
  printTable(
    ["SENT", "RECEIVED", "OBJECTS", "WHY"],
    letters.map((letter) => [
      letter.sentAt ? shortTime(letter.sentAt) : "-",
      `${letter.receiveCount}×`,
      letter.keys.join(", ") || "-",
      letter.reason ?? "no reason recorded",
    ]),
  );
  console.log("\nOnce the cause is fixed: restorable ingest redrive");
}
