// Drive a legacy HTTP+SSE server (2024-11-05) with the TypeScript SDK's SSEClientTransport
// and print a summary.
//
// Usage: node legacy_ts_client.mjs SSE_URL
//
// The client connects to SSE_URL, lists the tools, calls `add` and `slow` (steps=3, with a
// progress callback) and pings. It prints one JSON object and exits 0; on any failure it
// prints the error to stderr and exits 1.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const REQUEST_TIMEOUT_MS = 10_000;

const firstText = (result) => result.content?.find((block) => block.type === "text")?.text ?? null;

async function summarize([url]) {
  const transport = new SSEClientTransport(new URL(url));
  let protocolVersion = null;
  transport.setProtocolVersion = (version) => {
    protocolVersion = version;
  };
  const client = new Client({ name: "ts-legacy-client", version: "1.0.0" });
  const options = { timeout: REQUEST_TIMEOUT_MS };
  await client.connect(transport, options);
  try {
    const tools = (await client.listTools(undefined, options)).tools.map((t) => t.name).sort();
    const add = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } }, undefined, options);
    const progress = [];
    const slow = await client.callTool({ name: "slow", arguments: { steps: 3 } }, undefined, {
      ...options,
      onprogress: (p) => progress.push([p.progress, p.total ?? null]),
    });
    await client.ping(options);
    return {
      protocol_version: protocolVersion,
      server_name: client.getServerVersion()?.name ?? null,
      tools,
      add: { structured: add.structuredContent ?? null, text: firstText(add) },
      slow: { text: firstText(slow), progress },
      ping: true,
    };
  } finally {
    await client.close();
  }
}

await runPeerClient("legacy_ts_client.mjs", summarize, OVERALL_TIMEOUT_MS);
