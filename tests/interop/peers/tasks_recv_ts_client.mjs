// A TypeScript SDK client that runs the server's sampling and elicitation as tasks of its own
// (SEP-1686: a task store, `tasks` declared) and prints a summary.
//
// Usage: node tasks_recv_ts_client.mjs COMMAND [ARG...]
//
// The server command (tasks_recv_mcpkit_server.py) is started as a subprocess. The client calls
// `ask_llm` and `ask_user`, whose requests it answers with a task that completes shortly after;
// then `ask_llm` with "hold", whose task never ends, aborts that call, and waits (bounded) for
// the server's tasks/cancel to reach its store; last it calls `ask_llm_in_task` as a task of the
// server's (callToolStream), whose sampling names that task. It prints one JSON object and exits 0, or the
// error to stderr and exits 1.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTaskStore } from "@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js";
import { CallToolResultSchema, CreateMessageRequestSchema, ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const WAIT_MS = 5_000; // for the held task to appear, and to be cancelled
const POLL_MS = 20; // the pollInterval of this client's tasks
const DONE_AFTER_MS = 20; // tasks complete this long after they are created

// Wait, bounded, until `done()` resolves true.
async function waitUntil(done) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await done()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function summarize([command, ...args]) {
  const store = new InMemoryTaskStore();
  const seen = { sampling: [], elicitation: [], held: null };
  const client = new Client(
    { name: "ts-tasks-receiver", version: "1.0.0" },
    {
      capabilities: {
        sampling: {},
        elicitation: { form: {} },
        tasks: { list: {}, cancel: {}, requests: { sampling: { createMessage: {} }, elicitation: { create: {} } } },
      },
      // No task message queue: with one, the SDK looks the related-task id of each incoming
      // request up in its own store and queues its answer there, so a request made for a
      // task of the server's (`ask_llm_in_task`) would never be answered (see test_tasks_receiver_interop.py).
      taskStore: store,
    },
  );

  // Answer at once with a task when asked for one; the result is stored a moment later.
  async function answer(kind, request, extra, result, hold) {
    seen[kind].push({ task: request.params.task ?? null, related: request.params._meta?.["io.modelcontextprotocol/related-task"] ?? null });
    if (!request.params.task) return result;
    const task = await extra.taskStore.createTask({ ttl: extra.taskRequestedTtl, pollInterval: POLL_MS });
    if (hold) {
      seen.held = task.taskId;
    } else {
      setTimeout(() => store.storeTaskResult(task.taskId, "completed", result), DONE_AFTER_MS);
    }
    return { task };
  }

  client.setRequestHandler(CreateMessageRequestSchema, (request, extra) => {
    const question = request.params.messages[0].content.text;
    const result = { role: "assistant", model: "ts-llm", content: { type: "text", text: `answer to ${question}` } };
    return answer("sampling", request, extra, result, question === "hold");
  });
  client.setRequestHandler(ElicitRequestSchema, (request, extra) =>
    answer("elicitation", request, extra, { action: "accept", content: { name: "Ada" } }, false),
  );

  await client.connect(new StdioClientTransport({ command, args, env: process.env, stderr: "inherit" }));
  try {
    const report = (result) => JSON.parse(result.content[0].text);
    const llm = report(await client.callTool({ name: "ask_llm", arguments: { question: "MCP?" } }));
    const user = report(await client.callTool({ name: "ask_user", arguments: {} }));

    const abort = new AbortController();
    const held = client.callTool({ name: "ask_llm", arguments: { question: "hold" } }, undefined, { signal: abort.signal });
    held.catch(() => {}); // aborted below
    await waitUntil(async () => seen.held !== null);
    abort.abort("the user gave up");
    await waitUntil(async () => (await store.getTask(seen.held))?.status === "cancelled");
    const heldStatus = (await store.getTask(seen.held))?.status ?? null;
    const statuses = store.getAllTasks().map((task) => task.status);

    const inTask = { kinds: [], server_task: null, result: null };
    const stream = client.experimental.tasks.callToolStream(
      { name: "ask_llm_in_task", arguments: { question: "MCP?" } },
      CallToolResultSchema,
      { task: { ttl: 60_000 } },
    );
    for await (const message of stream) {
      inTask.kinds.push(message.type);
      if (message.type === "taskCreated") inTask.server_task = message.task.taskId;
      if (message.type === "result") inTask.result = report(message.result);
      if (message.type === "error") throw message.error;
    }

    return { llm, user, seen, held_status: heldStatus, statuses, in_task: inTask };
  } finally {
    await client.close();
  }
}

await runPeerClient("tasks_recv_ts_client.mjs", summarize, OVERALL_TIMEOUT_MS);
