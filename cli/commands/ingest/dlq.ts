import type { Command } from "commander";
import type { DeadLetter } from "../../../shared/ingest/dead-letters";
import { printJson } from "../../output/format";
import { printDeadLetters } from "../../output/ingest";
import { ingestQueuesFor } from "./queues";

export function registerIngestDlq(ingest: Command): void {
  ingest
    .command("dlq")
    .description("List the messages the indexer gave up on, with the objects they name and why they failed")
    .option("--json", "print JSON for scripts")
    .addHelpText("after", "\nNothing is taken off the queue; `restorable ingest redrive` sends the messages back.")
    .action(listDeadLetters);
}

async function listDeadLetters(options: { json?: boolean }, command: Command): Promise<void> {
  const { sqs, deadLetterQueueUrl, catalog } = await ingestQueuesFor(command);
  const { peekDeadLetters } = await import("../../../shared/ingest/dead-letters");
  const letters = await peekDeadLetters(sqs, deadLetterQueueUrl);
  // The indexer records why a message failed as an ingest problem of each key it names.
  const problems = new Map((await catalog.problems.list()).map((problem) => [problem.key, problem.reason]));
  const reasonOf = (letter: DeadLetter) =>
    letter.unreadable ?? letter.keys.map((key) => problems.get(key)).find((reason) => reason) ?? null;
  const listed = letters.map((letter) => ({ ...letter, reason: reasonOf(letter) }));
  if (options.json) return printJson({ deadLetters: listed });
  printDeadLetters(listed);
}
