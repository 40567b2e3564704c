// Use an eras server with the TypeScript SDK v2's client, in the era asked for; print a summary.
//
// Usage: node ts_eras_client.mjs MODE URL
//        node ts_eras_client.mjs MODE COMMAND [ARG...]
//
// MODE is the client's `versionNegotiation.mode`: `default` (none given: the SDK's default,
// which is `'legacy'`, the initialize handshake), `legacy`, `auto` (probe `server/discover`,
// take 2026-07-28 where offered) or a revision to pin (`{ pin: '2026-07-28' }`). A URL is
// reached over Streamable HTTP; a command is started and spoken to over stdio. The scenario
// and the summary are those of official_eras_client.py (see README.md).

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const REQUEST_TIMEOUT_MS = 10_000;
const CITY = "Lisbon";
const NAME = "Ada";
const REVIEW_CODE = "x = 1";

function negotiation(mode) {
  if (mode === "default") return undefined;
  if (mode === "legacy" || mode === "auto") return { mode };
  return { mode: { pin: mode } };
}

async function summarize([mode, ...target]) {
  const transport = target[0].startsWith("http")
    ? new StreamableHTTPClientTransport(new URL(target[0]))
    : new StdioClientTransport({ command: target[0], args: target.slice(1), env: process.env });
  const versionNegotiation = negotiation(mode);
  const client = new Client(
    { name: "ts-eras-client", version: "1.0.0" },
    {
      capabilities: { elicitation: { form: {} }, sampling: {} },
      ...(versionNegotiation ? { versionNegotiation } : {}),
    },
  );
  const elicitations = [];
  const samplings = [];
  client.setRequestHandler("elicitation/create", async (request) => {
    elicitations.push(request.params.message);
    return { action: "accept", content: { name: NAME } };
  });
  client.setRequestHandler("sampling/createMessage", async (request) => {
    const text = request.params.messages.at(-1).content.text;
    samplings.push(text);
    return {
      role: "assistant",
      content: { type: "text", text: `answer to ${text}` },
      model: "interop-llm",
      stopReason: "endTurn",
    };
  });
  const options = { timeout: REQUEST_TIMEOUT_MS };
  await client.connect(transport, options);
  try {
    const tools = await client.listTools(undefined, options);
    const plan = await client.callTool({ name: "plan", arguments: { city: CITY } }, options);
    const config = (await client.readResource({ uri: "config://app" }, options)).contents[0];
    const prompt = await client.getPrompt({ name: "review", arguments: { code: REVIEW_CODE } }, options);
    return {
      client: "ts",
      mode,
      protocol_version: client.getNegotiatedProtocolVersion() ?? null,
      tools: tools.tools.map((t) => t.name).sort(),
      plan: {
        text: plan.content?.find((b) => b.type === "text")?.text ?? null,
        is_error: Boolean(plan.isError),
      },
      elicitations,
      samplings,
      config: config.text ?? null,
      review: prompt.messages.map((m) => [m.role, m.content.text ?? null]),
    };
  } finally {
    await client.close();
  }
}

await runPeerClient("ts_eras_client.mjs", summarize, OVERALL_TIMEOUT_MS);
