// The eras surface (see README.md), served by the TypeScript SDK v2: over stdio (`serveStdio`),
// or with `--http` over Streamable HTTP on an ephemeral 127.0.0.1 port (it logs
// `over Streamable HTTP at <url>` on stderr once it listens), in either era: 2026-07-28 requests
// go to `createMcpHandler`, 2025-era ones (`isLegacyRequest`) to sessions of their own, the
// SDK's documented pattern; its handler's own 2025 fallback is stateless, and a stateless
// server cannot ask its client anything.
//
// `plan` is written once with `inputRequired(...)` returns, the 2026-07-28 way: a 2026 client
// fulfils them and retries; on a 2025-11-25 connection the SDK's legacy shim sends them as
// requests and re-enters the handler with the answers.

import http from "node:http";
import { Readable } from "node:stream";
import { randomUUID } from "node:crypto";
import {
  McpServer,
  WebStandardStreamableHTTPServerTransport,
  acceptedContent,
  createMcpHandler,
  inputRequired,
  isLegacyRequest,
} from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { z } from "zod";

const FORM = { type: "object", properties: { name: { type: "string" } }, required: ["name"] };

function makeServer() {
  const server = new McpServer(
    { name: "ts-eras", version: "1.0.0" },
    { instructions: "interop eras server" },
  );
  server.registerTool(
    "plan",
    { description: "Ask who travels, then ask the client's LLM for a plan.", inputSchema: z.object({ city: z.string() }) },
    async ({ city }, ctx) => {
      const responses = ctx.mcpReq.inputResponses;
      const sampled = responses?.plan;
      const name = ctx.mcpReq.requestState();
      if (sampled && typeof name === "string") {
        return { content: [{ type: "text", text: `${name}: ${sampled.content?.text ?? null}` }] };
      }
      const who = acceptedContent(responses, "who");
      if (who) {
        const traveller = typeof who.name === "string" ? who.name : "nobody";
        const text = `Plan a day in ${city} for ${traveller}`;
        return inputRequired({
          inputRequests: {
            plan: inputRequired.createMessage({
              messages: [{ role: "user", content: { type: "text", text } }],
              maxTokens: 50,
            }),
          },
          requestState: traveller,
        });
      }
      return inputRequired({
        inputRequests: { who: inputRequired.elicit({ message: `Who goes to ${city}?`, requestedSchema: FORM }) },
      });
    },
  );
  server.registerResource("config", "config://app", { mimeType: "application/json" }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: "application/json", text: '{"debug": false}' }],
  }));
  server.registerPrompt(
    "review",
    { description: "Ask for a review of `code`.", argsSchema: z.object({ code: z.string() }) },
    ({ code }) => ({
      messages: [{ role: "user", content: { type: "text", text: `Please review this code:\n${code}` } }],
    }),
  );
  return server;
}

// A 2025-era request: `initialize` opens a session (its own server and transport), the
// session's later requests go to it.
const sessions = new Map();
async function serveLegacy(request) {
  const known = sessions.get(request.headers.get("mcp-session-id"));
  if (known) return known.handleRequest(request);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => sessions.set(id, transport),
    onsessionclosed: (id) => sessions.delete(id),
  });
  await makeServer().connect(transport);
  return transport.handleRequest(request);
}

// node:http in front of the web-standard handlers: one Request in, its Response (streamed) out.
async function serveHttp() {
  const modern = createMcpHandler(makeServer, { legacy: "reject" });
  const server = http.createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
      }
      const abort = new AbortController();
      res.on("close", () => abort.abort());
      const request = new Request(`http://${req.headers.host}${req.url}`, {
        method: req.method,
        headers,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
        signal: abort.signal,
      });
      const legacy = await isLegacyRequest(request);
      const response = legacy ? await serveLegacy(request) : await modern.fetch(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.flushHeaders(); // an SSE stream's headers go now, not with its first event
      if (response.body) Readable.fromWeb(response.body).pipe(res);
      else res.end();
    } catch (error) {
      console.error(error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  server.listen(0, "127.0.0.1", () => {
    console.error(`ts-eras over Streamable HTTP at http://127.0.0.1:${server.address().port}/mcp`);
  });
}

if (process.argv.includes("--http")) {
  await serveHttp();
} else {
  serveStdio(makeServer);
}
