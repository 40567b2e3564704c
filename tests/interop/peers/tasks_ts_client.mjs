// The TypeScript SDK's client (1.32, experimental tasks) against an mcpkit server with task
// tools (peers/tasks_mcpkit_server.py) over Streamable HTTP, printing a summary.
//
// Usage: node tasks_ts_client.mjs URL [TOKEN]
//
// With TOKEN (a bearer token the server knows) tasks/list is offered and its answer is in
// the summary with the ids of every task this run created; without, the error code.
//
// It calls each task tool with `client.experimental.tasks.callToolStream` (which polls
// tasks/get and fetches tasks/result), answers the server's elicitation during a task, and
// uses getTask, getTaskResult, cancelTask and listTasks directly. The client has no task
// store of its own: a TS receiver with one looks the related-task id of every incoming
// request up in its own store, and would refuse the server's elicitation for the server's
// task. Prints one JSON object and exits 0; on any failure, the error to stderr and exits 1.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CallToolResultSchema, CreateTaskResultSchema, ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const firstText = (result) => result?.content?.find((block) => block.type === "text")?.text ?? null;

/** Run one callToolStream to its end: the kinds of messages seen, the statuses, the outcome. */
const created = []; // every task id this run made

async function stream(client, name, args, options = {}) {
  const seen = { kinds: [], statuses: [], taskId: null, result: null, error: null };
  for await (const message of client.experimental.tasks.callToolStream(
    { name, arguments: args },
    CallToolResultSchema,
    { task: { ttl: 60_000 }, ...options },
  )) {
    if (seen.kinds.at(-1) !== message.type) seen.kinds.push(message.type);
    if (message.type === "taskCreated") created.push((seen.taskId = message.task.taskId));
    if (message.type === "taskStatus") seen.statuses.push(message.task.status);
    if (message.type === "result") seen.result = message.result;
    if (message.type === "error") seen.error = message.error.message;
  }
  return seen;
}

async function codeOf(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return error?.code ?? String(error);
  }
}

async function listAll(client) {
  const ids = [];
  let cursor;
  do {
    const page = await client.experimental.tasks.listTasks(cursor);
    ids.push(...page.tasks.map((t) => t.taskId));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

async function summarize([url, token]) {
  const asked = [];
  const client = new Client(
    { name: "ts-tasks-client", version: "1.0.0" },
    { capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler(ElicitRequestSchema, async ({ params }) => {
    asked.push({ message: params.message, related: params._meta?.["io.modelcontextprotocol/related-task"] ?? null });
    return { action: "accept", content: { name: "Ada" } };
  });
  const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit }));
  const summary = { capabilities: client.getServerCapabilities()?.tasks ?? null };
  const { tools } = await client.listTools();
  summary.task_support = Object.fromEntries(tools.map((t) => [t.name, t.execution?.taskSupport ?? null]));

  const added = await stream(client, "add_later", { a: 2, b: 3 });
  summary.add_later = { kinds: added.kinds, last: added.statuses.at(-1), structured: added.result?.structuredContent };

  const progress = [];
  const job = await stream(client, "job", { steps: 3 }, { onprogress: (p) => progress.push([p.progress, p.total]) });
  summary.job = { text: firstText(job.result), progress };

  const exploded = await stream(client, "explode", {});
  const failed = await client.experimental.tasks.getTaskResult(exploded.taskId, CallToolResultSchema);
  summary.explode = { last: exploded.statuses.at(-1), error: exploded.error, is_error: failed.isError, text: firstText(failed) };

  const ask = await stream(client, "ask_name", {});
  summary.ask_name = { statuses: ask.statuses, text: firstText(ask.result), asked };

  const forever = await client.request(
    { method: "tools/call", params: { name: "forever", arguments: {} } },
    CreateTaskResultSchema,
    { task: { ttl: 60_000 } },
  );
  const taskId = forever.task.taskId;
  created.push(taskId);
  const got = await client.experimental.tasks.getTask(taskId);
  const cancelled = await client.experimental.tasks.cancelTask(taskId);
  summary.forever = {
    created: forever.task.status,
    got: got.status,
    cancelled: cancelled.status,
    cancel_again: await codeOf(client.experimental.tasks.cancelTask(taskId)),
    result: await codeOf(client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema)),
    after: (await client.experimental.tasks.getTask(taskId)).status,
  };
  summary.unknown = await codeOf(client.experimental.tasks.getTask("no-such-task"));
  summary.list = token ? await listAll(client) : await codeOf(listAll(client));
  summary.created = created;
  await client.close();
  return summary;
}

runPeerClient("tasks_ts_client.mjs", summarize, OVERALL_TIMEOUT_MS);
