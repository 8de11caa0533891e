import type { NewAlert } from "../catalog/alerts";

/**
 * What CloudWatch (an alarm's state change) or Lambda (a failed asynchronous invocation's record, from a
 * failure destination) publishes to the stack's topic, as alerts: one per alarm transition into ALARM (and one
 * when it is back to OK), one per failed run. Anything else is kept as an alert with its raw subject, never dropped.
 */
export function alertsFromNotification(messageId: string, message: string): { once: string; alert: NewAlert }[] {
  const parsed = safeJson(message) as Record<string, unknown> | undefined;
  if (parsed && typeof parsed.AlarmName === "string") {
    const state = String(parsed.NewStateValue ?? "");
    const reason = String(parsed.NewStateReason ?? "").slice(0, 1000);
    return [
      {
        once: `alarm:${parsed.AlarmName}:${state}:${String(parsed.StateChangeTime ?? messageId)}`,
        alert: {
          kind: "alarm",
          subject: parsed.AlarmName,
          message:
            state === "OK"
              ? `alarm ${parsed.AlarmName} is back to OK`
              : `alarm ${parsed.AlarmName} is ${state}: ${reason}`,
          details: { alarm: parsed.AlarmName, state, reason, description: parsed.AlarmDescription ?? null },
        },
      },
    ];
  }
  const context = parsed?.requestContext as Record<string, unknown> | undefined;
  if (context && typeof context.functionArn === "string") {
    const name = context.functionArn.split(":").slice(6, 7)[0] ?? context.functionArn;
    const condition = String(context.condition ?? "failed");
    const payload = parsed?.responsePayload as Record<string, unknown> | undefined;
    const error = String(payload?.errorMessage ?? payload?.errorType ?? condition).slice(0, 1000);
    return [
      {
        once: `invocation:${String(context.requestId ?? messageId)}`,
        alert: {
          kind: "alarm",
          subject: name,
          message: `scheduled run of ${name} failed (${condition}): ${error}`,
          details: { function: name, condition, error },
        },
      },
    ];
  }
  return [
    {
      once: `sns:${messageId}`,
      alert: { kind: "alarm", subject: "cloudwatch", message: message.slice(0, 1000), details: {} },
    },
  ];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
