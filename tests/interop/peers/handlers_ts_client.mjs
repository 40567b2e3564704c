// Run a plan of calls against the handlers server with a TypeScript SDK client; print a summary.
//
// Usage: node handlers_ts_client.mjs SDK MODE PLAN_JSON URL
//        node handlers_ts_client.mjs SDK MODE PLAN_JSON COMMAND [ARG...]
//
// SDK is `v1` (npm @modelcontextprotocol/sdk, which speaks 2025-11-25) or `v2` (npm
// @modelcontextprotocol/client). MODE is v2's `versionNegotiation.mode`: `legacy` (the
// initialize handshake), `auto` (server/discover first) or a revision to pin
// (`2026-07-28`); v1 takes only `legacy`.
// The plan and the summary are those of official_handlers_client.py; a connection of the
// plan may also ask for `url_elicitation` (declared alone, and answered by approving on the
// page the URL leads to), and the summary adds the URLs so opened (`urls_opened`).

import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const REQUEST_TIMEOUT_MS = 10_000;
const NEXT_PAGE = /^\[page \d+ of \d+; the next: (\S+)\]$/;
const APPROVAL_LINK = /open (https?:\/\/\S+) and approve/;
const FORM_FIELD = /name="(\w)" value="([^"]+)"/g;

// Open the approval link in `text` and press Approve, as the user's browser does (its POST
// carries the page's origin).
async function approve(text) {
  return await approveLink(APPROVAL_LINK.exec(text)[1]);
}

async function approveLink(link) {
  const page = await (await fetch(link)).text();
  const form = new URLSearchParams([...page.matchAll(FORM_FIELD)].map((m) => [m[1], m[2]]));
  form.set("decision", "approve");
  const posted = await fetch(link, { method: "POST", body: form, headers: { origin: new URL(link).origin } });
  return { status: posted.status };
}

async function sdk(version) {
  if (version === "v1") {
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport } = await import(
      "@modelcontextprotocol/sdk/client/streamableHttp.js"
    );
    const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
    const { ElicitRequestSchema } = await import("@modelcontextprotocol/sdk/types.js");
    return { Client, StreamableHTTPClientTransport, StdioClientTransport, elicit: ElicitRequestSchema };
  }
  const { Client, StreamableHTTPClientTransport } = await import("@modelcontextprotocol/client");
  const { StdioClientTransport } = await import("@modelcontextprotocol/client/stdio");
  return { Client, StreamableHTTPClientTransport, StdioClientTransport, elicit: "elicitation/create" };
}

// A connection that declares URL-mode elicitation alone: the user, asked to open a URL,
// opens it and approves there, then the client says it accepted.
const urlsOpened = [];

function connector(version, mode, target, lib) {
  return async ({ token, url_elicitation: urlElicitation, form_unanswered: formUnanswered }) => {
    const transport = target[0].startsWith("http")
      ? new lib.StreamableHTTPClientTransport(new URL(target[0]), {
          requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
        })
      : new lib.StdioClientTransport({ command: target[0], args: target.slice(1), env: process.env });
    const options = {};
    if (version === "v2") {
      options.versionNegotiation = mode === "legacy" || mode === "auto" ? { mode } : { mode: { pin: mode } };
    } else if (mode !== "legacy") {
      throw new Error(`the v1 SDK speaks only the handshake, not ${mode}`);
    }
    if (urlElicitation) options.capabilities = { elicitation: { url: {} } };
    // Declares form elicitation and registers no handler: it answers "method not found".
    if (formUnanswered) options.capabilities = { elicitation: { form: {} } };
    const client = new lib.Client({ name: `handlers-ts-${version}`, version: "1.0.0" }, options);
    if (urlElicitation) {
      client.setRequestHandler(lib.elicit, async (request) => {
        if (request.params.mode !== "url") return { action: "decline" };
        urlsOpened.push(request.params.url);
        await approveLink(request.params.url);
        return { action: "accept" };
      });
    }
    await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
    return client;
  };
}

const texts = (result) => (result.content ?? []).filter((b) => b.type === "text").map((b) => b.text);

// v1 takes (params, resultSchema, options); v2 (params, options).
function callTool(client, params, version, options) {
  return version === "v1" ? client.callTool(params, undefined, options) : client.callTool(params, options);
}

async function overflow(client, step, version, options) {
  const result = await callTool(client, { name: step.tool, arguments: step.args ?? {} }, version, options);
  const link = result.content.find((b) => b.type === "resource_link");
  let joined = result.content[0].text;
  let uri = link.uri;
  let pages = 0;
  while (uri) {
    let { contents } = await client.readResource({ uri }, options);
    pages += 1;
    uri = null;
    const match = NEXT_PAGE.exec(contents.at(-1).text ?? "");
    if (match) {
      uri = match[1];
      contents = contents.slice(0, -1);
    }
    joined += contents.map((part) => part.text).join("");
  }
  return { joined, pages, link_mime: link.mimeType ?? null, uri: link.uri };
}

async function stepResult(client, step, version, done) {
  const options = { timeout: REQUEST_TIMEOUT_MS };
  try {
    if (step.op === "approve") return await approve(done.get(step.link_of).text);
    if (step.op === "read") {
      const uri = step.uri ?? done.get(step.uri_of).uri;
      const { contents } = await client.readResource({ uri }, options);
      return { text: contents.map((part) => part.text ?? "").join("") };
    }
    if (step.op === "prompt") {
      const prompt = await client.getPrompt({ name: step.name, arguments: step.args }, options);
      return { messages: prompt.messages.map((m) => [m.role, m.content.text ?? null]) };
    }
    if (step.op === "list" || step.op === "schema") {
      const { tools } = await client.listTools(undefined, options);
      if (step.op === "schema") return tools.find((t) => t.name === step.tool).inputSchema;
      return { tools: tools.map((t) => t.name).sort() };
    }
    if (step.op === "overflow") return await overflow(client, step, version, options);
    const params = { name: step.tool, arguments: step.args ?? {}, ...(step.meta ? { _meta: step.meta } : {}) };
    const result = await callTool(client, params, version, options);
    return { is_error: Boolean(result.isError), text: texts(result).join("") };
  } catch (error) {
    if (typeof error?.code !== "number") throw error;
    // (v1 prefixes the server's message with "MCP error CODE: ")
    return { error: error.code, message: error.message.replace(/^MCP error -?\d+: /, "") };
  }
}

async function runPlan([version, mode, planJson, ...target]) {
  const plan = JSON.parse(planJson);
  const connect = connector(version, mode, target, await sdk(version));
  const open = new Map();
  const done = new Map();
  try {
    for (const step of plan.steps) {
      if (!open.has(step.conn)) open.set(step.conn, await connect(plan.connections[step.conn]));
      done.set(step.id, await stepResult(open.get(step.conn), step, version, done));
    }
    const results = [...done.values()];
    const versions = Object.fromEntries(
      [...open].map(([name, client]) => [name, client.getNegotiatedProtocolVersion?.() ?? client.transport?.protocolVersion ?? null]),
    );
    const instructions = Object.fromEntries(
      [...open].map(([name, client]) => [name, client.getInstructions() ?? null]),
    );
    return { client: `ts-${version}`, versions, instructions, results, urls_opened: urlsOpened };
  } finally {
    for (const client of open.values()) await client.close();
  }
}

await runPeerClient("handlers_ts_client.mjs", runPlan, OVERALL_TIMEOUT_MS);
