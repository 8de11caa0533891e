import type { MessageBlock, SlackMessage } from "./ports";

/**
 * Slack's limits for the blocks we send (https://docs.slack.dev/reference/block-kit/blocks): a message above
 * them is refused whole (invalid_blocks), which would leave its alerts pending for ever, so messages are laid
 * out within them and checked again before they leave.
 */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  /** Slack truncates `text` at 40,000 characters; a notification shows far fewer: ours stays short. */
  fallbackText: 3000,
} as const;

/** Cuts `text` to `max` characters, marking the cut. */
export function clamp(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Every way the message breaks Slack's limits or our block subset; empty when it is fine to send. */
export function blockKitProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  if (typeof message.text !== "string" || message.text.trim() === "") problems.push("no text fallback");
  else if (message.text.length > SLACK_LIMITS.fallbackText) problems.push(`text is ${message.text.length} characters`);
  if (!Array.isArray(message.blocks) || message.blocks.length === 0) problems.push("no blocks");
  else if (message.blocks.length > SLACK_LIMITS.blocksPerMessage) problems.push(`${message.blocks.length} blocks`);
  (message.blocks ?? []).forEach((block, index) => {
    for (const problem of blockProblems(block)) problems.push(`block ${index} (${block.type}): ${problem}`);
  });
  return problems;
}

function blockProblems(block: MessageBlock): string[] {
  switch (block.type) {
    case "header":
      return block.text.type !== "plain_text"
        ? ["header text must be plain_text"]
        : textProblems(block.text.text, SLACK_LIMITS.headerText);
    case "section": {
      const problems: string[] = [];
      if (!block.text && !block.fields?.length) problems.push("a section needs text or fields");
      if (block.text) problems.push(...textProblems(block.text.text, SLACK_LIMITS.sectionText));
      const fields = block.fields ?? [];
      if (fields.length > SLACK_LIMITS.sectionFields) problems.push(`${fields.length} fields`);
      for (const field of fields) problems.push(...textProblems(field.text, SLACK_LIMITS.fieldText));
      return problems;
    }
    case "context": {
      const problems: string[] = [];
      if (block.elements.length === 0 || block.elements.length > SLACK_LIMITS.contextElements) {
        problems.push(`${block.elements.length} context elements`);
      }
      for (const element of block.elements) {
        if (element.type !== "mrkdwn" && element.type !== "plain_text") problems.push(`context ${element.type}`);
        else problems.push(...textProblems(element.text, SLACK_LIMITS.contextText));
      }
      return problems;
    }
    case "divider":
      return [];
    default:
      return [`unexpected block type ${(block as { type: string }).type}`];
  }
}

function textProblems(text: unknown, max: number): string[] {
  if (typeof text !== "string" || text.trim() === "") return ["empty text"];
  return text.length > max ? [`text is ${text.length} characters, over ${max}`] : [];
}

/** The message with every text cut to its limit and at most 50 blocks (a last resort: layout keeps within them). */
export function clampMessage(message: SlackMessage): SlackMessage {
  const blocks = message.blocks.slice(0, SLACK_LIMITS.blocksPerMessage).map((block): MessageBlock => {
    switch (block.type) {
      case "header":
        return { ...block, text: { ...block.text, text: clamp(block.text.text, SLACK_LIMITS.headerText) } };
      case "section":
        return {
          ...block,
          ...(block.text ? { text: { ...block.text, text: clamp(block.text.text, SLACK_LIMITS.sectionText) } } : {}),
          ...(block.fields
            ? {
                fields: block.fields
                  .slice(0, SLACK_LIMITS.sectionFields)
                  .map((field) => ({ ...field, text: clamp(field.text, SLACK_LIMITS.fieldText) })),
              }
            : {}),
        };
      case "context":
        return {
          ...block,
          elements: block.elements
            .slice(0, SLACK_LIMITS.contextElements)
            .map((element) =>
              "text" in element && typeof element.text === "string"
                ? { ...element, text: clamp(element.text, SLACK_LIMITS.contextText) }
                : element,
            ),
        };
      default:
        return block;
    }
  });
  return { text: clamp(message.text, SLACK_LIMITS.fallbackText), blocks };
}
