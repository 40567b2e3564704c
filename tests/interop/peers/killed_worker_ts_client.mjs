// Call a tool whose worker process the client kills mid-call, with the TypeScript SDK's
// StreamableHTTPClientTransport, and print what came back.
//
// Usage: node killed_worker_ts_client.mjs URL
//
// The tool `steps` reports three progress messages ("step N by PID"), then waits forever. On
// the third, this client SIGKILLs PID: the POST's stream breaks, the transport resumes it with
// Last-Event-ID (on another worker), and the call ends as the server ends it. Prints one JSON
// object: the progress messages, the error the call was rejected with (or the result), and
// the tools listed afterwards; exits 0, or 1 on any other failure.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the harness's own bound, so a failure is reported
const REQUEST_TIMEOUT_MS = 20_000;

async function summarize([url]) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    reconnectionOptions: {
      initialReconnectionDelay: 100,
      maxReconnectionDelay: 1000,
      reconnectionDelayGrowFactor: 1.5,
      maxRetries: 5,
    },
  });
  const client = new Client({ name: "ts-killed-worker", version: "1.0.0" });
  await client.connect(transport);
  const progress = [];
  let outcome;
  try {
    const result = await client.callTool({ name: "steps", arguments: {} }, undefined, {
      timeout: REQUEST_TIMEOUT_MS,
      resetTimeoutOnProgress: false,
      onprogress: ({ progress: done, message }) => {
        progress.push(message);
        if (done === 3) {
          process.kill(Number(message.split(" ").at(-1)), "SIGKILL");
        }
      },
    });
    outcome = { result };
  } catch (error) {
    outcome = { error: { code: error.code ?? null, message: String(error.message) } };
  }
  const tools = (await client.listTools()).tools.map((tool) => tool.name);
  await client.close();
  return { progress, ...outcome, tools };
}

await runPeerClient("killed_worker_ts_client.mjs", summarize, OVERALL_TIMEOUT_MS);
