// A Streamable HTTP server built with the TypeScript SDK, for the mcpkit client's interop
// tests: node's http server on 127.0.0.1, port 0, one StreamableHTTPServerTransport (and one
// McpServer) per session, with an in-memory event store and a 10 ms `retry`. Prints
// {"port": N} on its first line of stdout once it listens.
//
// The store is our own: the SDK's example (examples/shared/inMemoryEventStore.js) replays in
// the order of its ids, "<stream>_<milliseconds>_<random>", so two events of one millisecond
// come back in random order, and one before the Last-Event-ID's is skipped (lost).
//
// Tools: `add` (structured), `slow` (progress), `poll` (closes its SSE stream mid-call,
// SEP-1699), `ask_llm` (sampling) and `ask_name` (form elicitation).

import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

class OrderedEventStore {
  events = []; // [eventId, streamId, message], in the order they were stored

  async storeEvent(streamId, message) {
    const eventId = `${streamId}_${this.events.length}`;
    this.events.push([eventId, streamId, message]);
    return eventId;
  }

  async getStreamIdForEventId(eventId) {
    return this.events.find(([id]) => id === eventId)?.[1];
  }

  async replayEventsAfter(lastEventId, { send }) {
    const start = this.events.findIndex(([id]) => id === lastEventId);
    if (start < 0) return "";
    const streamId = this.events[start][1];
    for (const [eventId, stream, message] of this.events.slice(start + 1)) {
      if (stream === streamId && message) await send(eventId, message);
    }
    return streamId;
  }
}

const text = (value) => ({ content: [{ type: "text", text: value }] });

function progress(extra, value, total) {
  return extra.sendNotification({
    method: "notifications/progress",
    params: { progressToken: extra._meta?.progressToken, progress: value, total },
  });
}

function makeServer() {
  const mcp = new McpServer({ name: "ts-http", version: "1.0.0" });
  const server = mcp.server;
  mcp.registerTool(
    "add",
    {
      description: "Adds two numbers.",
      inputSchema: { a: z.number().int(), b: z.number().int() },
      outputSchema: { result: z.number().int() },
    },
    async ({ a, b }) => ({ ...text(String(a + b)), structuredContent: { result: a + b } }),
  );
  mcp.registerTool("slow", { inputSchema: { steps: z.number().int() } }, async ({ steps }, extra) => {
    for (let i = 0; i < steps; i++) await progress(extra, i + 1, steps);
    return text(`${steps} steps`);
  });
  mcp.registerTool("poll", { inputSchema: {} }, async (_args, extra) => {
    await progress(extra, 1, 2);
    extra.closeSSEStream?.();
    await progress(extra, 2, 2);
    return text("resumed");
  });
  mcp.registerTool("ask_llm", { inputSchema: { question: z.string() } }, async ({ question }, extra) => {
    const result = await server.createMessage(
      { messages: [{ role: "user", content: { type: "text", text: question } }], maxTokens: 16 },
      { relatedRequestId: extra.requestId },
    );
    return text(String(result.content?.text));
  });
  mcp.registerTool("ask_name", { inputSchema: {} }, async (_args, extra) => {
    const answer = await server.elicitInput(
      {
        message: "Your name?",
        requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
      },
      { relatedRequestId: extra.requestId },
    );
    return text(`${answer.action}:${answer.content?.name}`);
  });
  return mcp;
}

const transports = new Map();

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks).toString("utf8");
  return body ? JSON.parse(body) : undefined;
}

const http = createServer(async (req, res) => {
  try {
    const sessionId = req.headers["mcp-session-id"];
    const body = req.method === "POST" ? await readJson(req) : undefined;
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport && !sessionId && req.method === "POST" && isInitializeRequest(body)) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: new OrderedEventStore(),
        retryInterval: 10,
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
      await makeServer().connect(transport);
    }
    if (!transport) {
      res.writeHead(sessionId ? 404 : 400, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "no such session" } }));
      return;
    }
    await transport.handleRequest(req, res, body);
  } catch (error) {
    process.stderr.write(`${error?.stack ?? error}\n`);
    if (!res.headersSent) res.writeHead(500).end();
  }
});

http.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`);
});
