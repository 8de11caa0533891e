import { plain } from "./format";
import type { MessageBlock, SlackMessage } from "./ports";
import { outgoing } from "./scrub";

/**
 * Prints each message as text (the local stack without Slack): the header, the sections, the fields, the
 * context, as a person reads them in Slack.
 */
export class ConsoleSender {
  readonly name = "console";

  constructor(private readonly write: (text: string) => void = (text) => process.stdout.write(text)) {}

  async send(message: SlackMessage): Promise<void> {
    this.write(`${renderText(outgoing(message))}\n`);
  }
}

/** The message as plain text, one block after the other. */
export function renderText(message: SlackMessage): string {
  const lines = message.blocks.flatMap((block) => blockLines(block));
  return ["── slack ──────────────────────────────", ...lines, "───────────────────────────────────────"].join("\n");
}

function blockLines(block: MessageBlock): string[] {
  switch (block.type) {
    case "header":
      return [block.text.text.replace(/^:[a-z0-9_+-]+:\s*/, "")];
    case "section":
      return [
        ...(block.text ? [plain(block.text.text)] : []),
        ...(block.fields ?? []).map((field) => `  ${plain(field.text).replace("\n", ": ")}`),
      ];
    case "context":
      return block.elements.flatMap((element) =>
        "text" in element && typeof element.text === "string" ? [plain(element.text)] : [],
      );
    default:
      return [];
  }
}
