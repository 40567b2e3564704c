// A Streamable HTTP server built with the TypeScript SDK's experimental tasks (SEP-1686), for
// the mcpkit client's task interop tests: node's http server on 127.0.0.1, port 0, one
// StreamableHTTPServerTransport (and one McpServer) per session, tasks in the SDK's
// InMemoryTaskStore and InMemoryTaskMessageQueue. Prints {"port": N} on its first line of
// stdout once it listens.
//
// Two endpoints: /mcp keeps tasks bound to the session that made them (the SDK's default),
// /shared one store for every session (so a client that reconnects fetches a result by id).
//
// Task tools (registerToolTask; each task polls every POLL_MS):
//   add_later(a, b)  optional taskSupport: completes with the sum (structured)
//   job(steps)       required: one progress notification per step after it was created,
//                    then completes with "<steps> steps"
//   explode()        required: fails with an isError result
//   ask_name()       required: moves to input_required and asks for a name (elicitation
//                    queued for tasks/result, with related-task), then completes
//   forever()        required: never ends by itself (for cancellation, listing, expiry)

import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { InMemoryTaskMessageQueue, InMemoryTaskStore } from "@modelcontextprotocol/sdk/experimental/tasks";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

const POLL_MS = 50;

/** One store for all sessions: the session id is not passed on, so none is bound. */
class SharedTaskStore extends InMemoryTaskStore {
  createTask(params, requestId, request) {
    return super.createTask(params, requestId, request, undefined);
  }
  getTask(taskId) {
    return super.getTask(taskId, undefined);
  }
  storeTaskResult(taskId, status, result) {
    return super.storeTaskResult(taskId, status, result, undefined);
  }
  getTaskResult(taskId) {
    return super.getTaskResult(taskId, undefined);
  }
  updateTaskStatus(taskId, status, message) {
    return super.updateTaskStatus(taskId, status, message, undefined);
  }
  listTasks(cursor) {
    return super.listTasks(cursor, undefined);
  }
}

const stores = { "/mcp": new InMemoryTaskStore(), "/shared": new SharedTaskStore() };
const queue = new InMemoryTaskMessageQueue();
const text = (value) => ({ content: [{ type: "text", text: value }] });
const later = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A task tool whose work runs in the background once the task is created. */
function taskTool(mcp, name, config, work) {
  mcp.experimental.tasks.registerToolTask(name, config, {
    async createTask(args, extra) {
      const store = extra.taskStore;
      const task = await store.createTask({ ttl: extra.taskRequestedTtl, pollInterval: POLL_MS });
      const token = extra._meta?.progressToken;
      work(args, { store, taskId: task.taskId, token }).catch((error) => {
        // The SDK's request-scoped store keeps the result, then fails to announce it when
        // the session that made the task has gone: a client that left fetches it later.
        if (error?.message === "Not connected") return;
        process.stderr.write(`task ${task.taskId} failed: ${error?.stack ?? error}\n`);
      });
      return { task };
    },
    getTask: (_args, extra) => extra.taskStore.getTask(extra.taskId),
    getTaskResult: (_args, extra) => extra.taskStore.getTaskResult(extra.taskId),
  });
}

function makeServer(taskStore) {
  const mcp = new McpServer(
    { name: "ts-tasks", version: "1.0.0" },
    {
      capabilities: { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
      taskStore,
      taskMessageQueue: queue,
    },
  );
  const server = mcp.server;
  // Every tool has an input schema: the SDK calls createTask(extra) alone for one without.
  const required = { inputSchema: {}, execution: { taskSupport: "required" } };
  taskTool(
    mcp,
    "add_later",
    {
      inputSchema: { a: z.number().int(), b: z.number().int() },
      outputSchema: { result: z.number().int() },
      execution: { taskSupport: "optional" },
    },
    async ({ a, b }, { store, taskId }) => {
      await later(POLL_MS);
      await store.storeTaskResult(taskId, "completed", {
        ...text(String(a + b)),
        structuredContent: { result: a + b },
      });
    },
  );
  taskTool(
    mcp,
    "job",
    { ...required, inputSchema: { steps: z.number().int() } },
    async ({ steps }, { store, taskId, token }) => {
      await later(POLL_MS); // the CreateTaskResult goes first
      for (let i = 1; i <= steps; i++) {
        // On the GET stream: the tools/call that asked for progress was answered long ago.
        // Best effort: the client that asked may be gone (it fetches the result later).
        await server
          .notification({
            method: "notifications/progress",
            params: { progressToken: token, progress: i, total: steps },
          })
          .catch(() => {});
      }
      await store.storeTaskResult(taskId, "completed", text(`${steps} steps`));
    },
  );
  taskTool(mcp, "explode", required, async (_args, { store, taskId }) => {
    await later(POLL_MS);
    await store.storeTaskResult(taskId, "failed", { ...text("it broke"), isError: true });
  });
  taskTool(mcp, "ask_name", required, async (_args, { store, taskId }) => {
    await store.updateTaskStatus(taskId, "input_required", "waiting for a name");
    // Queued for the task (relatedTask): delivered on the stream of the client's tasks/result.
    const answer = await server.elicitInput(
      {
        mode: "form",
        message: "Your name?",
        requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
      },
      { relatedTask: { taskId } },
    );
    await store.updateTaskStatus(taskId, "working");
    await store.storeTaskResult(taskId, "completed", text(`hello ${answer.content?.name}`));
  });
  taskTool(mcp, "forever", required, async () => {});
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
    const path = new URL(req.url, "http://127.0.0.1").pathname;
    const store = stores[path];
    const sessionId = req.headers["mcp-session-id"];
    const body = req.method === "POST" ? await readJson(req) : undefined;
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (store && !transport && !sessionId && req.method === "POST" && isInitializeRequest(body)) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
      await makeServer(store).connect(transport);
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
