// An MCP server built with the TypeScript SDK that asks the client for sampling and elicitation
// as tasks of the client's (SEP-1686, "Task-Augmented Sampling Request"): served over stdio.
//
// Each tool reports, as JSON, the messages of the SDK's experimental request stream
// (`createMessageStream` / `elicitInputStream` with `task`): the kinds in order, the task's
// statuses as polled with tasks/get, and the final result or error. `cancel_sampling` cancels
// the client's task once it is created and reports what tasks/get says then; `list_client_tasks`
// reports the client's tasks/list.

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CreateTaskResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

const TTL_MS = 60_000;

const mcp = new McpServer(
  { name: "ts-tasks-requestor", version: "1.0.0" },
  { instructions: "interop tasks requestor" },
);
const server = mcp.server;
const tasks = server.experimental.tasks;

const text = (value) => ({ content: [{ type: "text", text: JSON.stringify(value) }] });

// What a request stream yielded: kinds, statuses, the task id, the result or the error.
async function drain(stream) {
  const report = { kinds: [], statuses: [], taskId: null, result: null, error: null };
  for await (const message of stream) {
    report.kinds.push(message.type);
    if (message.type === "taskCreated") report.taskId = message.task.taskId;
    if (message.type === "taskStatus") report.statuses.push(message.task.status);
    if (message.type === "result") report.result = message.result;
    if (message.type === "error") report.error = { code: message.error.code, message: message.error.message };
  }
  return report;
}

const sampling = (question) => ({
  messages: [{ role: "user", content: { type: "text", text: question } }],
  maxTokens: 32,
});

mcp.registerTool(
  "sample_as_task",
  { description: "Ask the client's LLM as a task of the client's.", inputSchema: { question: z.string() } },
  async ({ question }, extra) =>
    text(await drain(tasks.createMessageStream(sampling(question), { task: { ttl: TTL_MS }, relatedRequestId: extra.requestId }))),
);

mcp.registerTool(
  "elicit_as_task",
  { description: "Ask the user for a name as a task of the client's.", inputSchema: {} },
  async (_args, extra) => {
    const params = {
      mode: "form",
      message: "Your name?",
      requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
    };
    return text(await drain(tasks.elicitInputStream(params, { task: { ttl: TTL_MS }, relatedRequestId: extra.requestId })));
  },
);

mcp.registerTool(
  "cancel_sampling",
  { description: "Start sampling as a task, cancel it, report its status.", inputSchema: { question: z.string() } },
  async ({ question }, extra) => {
    const options = { relatedRequestId: extra.requestId };
    const created = await server.request(
      { method: "sampling/createMessage", params: sampling(question) },
      CreateTaskResultSchema,
      { ...options, task: { ttl: TTL_MS } },
    );
    const taskId = created.task.taskId;
    const cancelled = await tasks.cancelTask(taskId, options);
    const after = await tasks.getTask(taskId, options);
    let again = null;
    try {
      await tasks.cancelTask(taskId, options);
    } catch (error) {
      again = { code: error.code };
    }
    return text({ cancelled: cancelled.status, after: after.status, again });
  },
);

mcp.registerTool(
  "list_client_tasks",
  { description: "The client's tasks, as tasks/list lists them.", inputSchema: {} },
  async (_args, extra) => {
    const listed = await tasks.listTasks(undefined, { relatedRequestId: extra.requestId });
    return text({ statuses: listed.tasks.map((task) => task.status) });
  },
);

await mcp.connect(new StdioServerTransport());
