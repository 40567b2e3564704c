// The benchmark server on the TypeScript SDK (npm @modelcontextprotocol/sdk, from
// tests/interop/node_modules): StreamableHTTPServerTransport on node's http module, one
// transport and one McpServer per session, as the SDK's examples do.
//
//   node http_ts_server.mjs PORT [json|sse] [mix]   # "json": enableJsonResponse (else SSE answers)
//                                                   # "mix": bench/one_cpu.py's tools (mix_tools.mjs)

import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const interop = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "tests", "interop");
const require = createRequire(join(interop, "package.json"));
const { McpServer } = require("@modelcontextprotocol/sdk/server/mcp.js");
const { StreamableHTTPServerTransport } = require("@modelcontextprotocol/sdk/server/streamableHttp.js");
const { isInitializeRequest } = require("@modelcontextprotocol/sdk/types.js");
const { z } = require("zod");
const { registerMix } = await import("./mix_tools.mjs");

const port = Number(process.argv[2]);
const enableJsonResponse = process.argv[3] === "json";
const mix = process.argv[4] === "mix";
const transports = new Map();

function newServer() {
  const server = new McpServer({ name: "bench", version: "1.0.0" });
  if (mix) {
    registerMix(server, z, (shape) => shape);
    return server;
  }
  server.registerTool(
    "echo",
    { description: "Return the text unchanged.", inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  server.registerTool(
    "add",
    {
      description: "Add two integers (structured output).",
      inputSchema: { a: z.number().int(), b: z.number().int() },
      outputSchema: { result: z.number().int() },
    },
    async ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
      structuredContent: { result: a + b },
    }),
  );
  return server;
}

function refuse(res, status, message) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function handle(req, res) {
  const sid = req.headers["mcp-session-id"];
  const known = sid === undefined ? undefined : transports.get(sid);
  if (req.method !== "POST") {
    if (known === undefined) return refuse(res, 404, "unknown session");
    return known.handleRequest(req, res);
  }
  const body = await readJson(req);
  if (known !== undefined) return known.handleRequest(req, res, body);
  if (sid !== undefined || !isInitializeRequest(body)) return refuse(res, 400, "no session");
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse,
    onsessioninitialized: (id) => transports.set(id, transport),
  });
  transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
  await newServer().connect(transport);
  return transport.handleRequest(req, res, body);
}

const http = createServer((req, res) => {
  handle(req, res).catch((error) => {
    if (!res.headersSent) refuse(res, 500, String(error));
  });
});
http.keepAliveTimeout = 60_000;
http.listen(port, "127.0.0.1");
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
