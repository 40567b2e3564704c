// The benchmark server on the TypeScript SDK v2 (npm @modelcontextprotocol/server 2.x, from
// tests/interop/node_modules), serving the 2026-07-28 revision: `createMcpHandler`, which
// builds a server from the factory for each request, on node's http module through the SDK's
// own adapter (`toNodeHandler` of @modelcontextprotocol/node), as the SDK documents for Node.
// 2025-era requests are refused (`legacy: "reject"`): the 2025 rows measure the v1 server.
//
//   node http_ts2_server.mjs PORT [json|sse] [mix]  # "json": responseMode "json" (else "sse")
//                                                   # "mix": bench/one_cpu.py's tools (mix_tools.mjs)

import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const modules = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "tests", "interop", "node_modules");
// By file: these packages resolve from tests/interop, not from bench/servers.
const load = (path) => import(pathToFileURL(join(modules, path)).href);
const { McpServer, createMcpHandler } = await load("@modelcontextprotocol/server/dist/index.mjs");
const { toNodeHandler } = await load("@modelcontextprotocol/node/dist/index.mjs");
const { z } = await load("zod/index.js");
const { registerMix } = await import("./mix_tools.mjs");

const port = Number(process.argv[2]);
const responseMode = process.argv[3] === "json" ? "json" : "sse";
const mix = process.argv[4] === "mix";

function newServer() {
  const server = new McpServer({ name: "bench", version: "1.0.0" });
  if (mix) {
    registerMix(server, z, (shape) => z.object(shape));
    return server;
  }
  server.registerTool(
    "echo",
    { description: "Return the text unchanged.", inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  server.registerTool(
    "add",
    {
      description: "Add two integers (structured output).",
      inputSchema: z.object({ a: z.number().int(), b: z.number().int() }),
      outputSchema: z.object({ result: z.number().int() }),
    },
    async ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
      structuredContent: { result: a + b },
    }),
  );
  return server;
}

const handler = toNodeHandler(
  createMcpHandler(newServer, { legacy: "reject", responseMode, onerror: (e) => console.error(e) }),
);
const http = createServer((req, res) => {
  handler(req, res).catch((error) => {
    console.error(error);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
http.keepAliveTimeout = 60_000;
http.listen(port, "127.0.0.1");
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
