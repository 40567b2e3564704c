// The inspector page: talks to its backend (POST /api/*, events over SSE at /api/events).
import { answerForm } from "./answer.js";
import { el, objectFields } from "./form.js";
import { block, contents, toolResult, tree } from "./render.js";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
let calls = 0;
const sentAt = new Map();

async function api(action, args = {}) {
  const response = await fetch(`/api/${action}?token=${encodeURIComponent(token)}`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(args),
  });
  const reply = await response.json();
  if (reply.error) throw new Error(typeof reply.error === "string" ? reply.error : `${reply.error.message} (code ${reply.error.code})`);
  return reply.result;
}
const request = (method, params, call) => api("request", { method, params, call });

function failure(where, err) { where.replaceChildren(el("div", { className: "result is-error", textContent: String(err.message || err) })); }

function status(text, cls) { $("status").textContent = text; $("status").className = "status " + (cls || ""); }

// ------------------------------------------------------------------ tabs
for (const button of document.querySelectorAll("#tabs button")) {
  button.onclick = () => showTab(button.dataset.tab);
}
function showTab(name) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const t of document.querySelectorAll(".tab")) t.hidden = t.id !== `tab-${name}`;
}

// ------------------------------------------------------------- connection
$("connect").onclick = async () => {
  status("connecting…");
  try { await api("connect", { target: $("target").value }); } catch (err) { status(`failed: ${err.message}`, "failed"); }
};
$("disconnect").onclick = () => api("disconnect").catch(() => {});

function connected(server) {
  status(`connected to ${server.serverInfo.name} ${server.serverInfo.version}`, "connected");
  $("disconnect").disabled = false;
  const info = el("div", {}, el("h3", { textContent: server.serverInfo.title || server.serverInfo.name }),
    el("p", { textContent: `version ${server.serverInfo.version}, protocol ${server.protocolVersion}` }));
  if (server.instructions) info.append(el("p", { className: "desc", textContent: server.instructions }));
  info.append(el("h4", { textContent: "Capabilities" }), tree(server.capabilities));
  $("tab-server").replaceChildren(info);
  const caps = server.capabilities || {};
  if (caps.tools) loadTools();
  if (caps.resources) loadResources();
  if (caps.prompts) loadPrompts();
}

function disconnected(reason) {
  status(`not connected${reason && reason !== "closed" ? ": " + reason : ""}`, reason === "closed" ? "" : "failed");
  $("disconnect").disabled = true;
}

// ------------------------------------------------------------------ tools
async function loadTools() {
  try {
    const { tools } = await request("tools/list", {});
    $("tool-list").replaceChildren(...tools.map((tool) => el("li", {},
      el("button", { className: "item", type: "button", textContent: tool.name, onclick: () => showTool(tool) }),
      el("span", { className: "desc", textContent: tool.description || "" }))));
  } catch (err) { failure($("tool-detail"), err); }
}

function showTool(tool) {
  const form = objectFields(tool.inputSchema || { type: "object" });
  const bar = el("progress", { hidden: true });
  const out = el("div");
  const run = el("button", { type: "submit", textContent: "Call" });
  const summary = el("div", { className: "error" });
  const node = el("form", { className: "tool-form" }, el("h3", { textContent: tool.title || tool.name }),
    el("p", { className: "desc", textContent: tool.description || "" }), form.node, run, summary, bar, out);
  node.onsubmit = async (event) => {
    event.preventDefault();
    const [args, errors] = form.read();
    summary.textContent = errors.length ? `Fix ${errors.length} field(s) first: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}` : "";
    if (errors.length) return;
    const call = `c${++calls}`;
    bar.id = `progress-${call}`; bar.hidden = true; bar.removeAttribute("value");
    out.replaceChildren(el("p", { className: "hint", textContent: "calling…" }));
    try {
      const result = await request("tools/call", { name: tool.name, arguments: args }, call);
      out.replaceChildren(toolResult(result, readResource));
    } catch (err) { failure(out, err); }
  };
  $("tool-detail").replaceChildren(node);
}

function progressed(event) {
  const bar = $(`progress-${event.call}`);
  if (!bar) return;
  bar.hidden = false;
  if (event.total) { bar.max = event.total; bar.value = event.progress; } else bar.removeAttribute("value");
  bar.title = event.message || `${event.progress}${event.total ? " / " + event.total : ""}`;
}

// -------------------------------------------------------------- resources
async function loadResources() {
  try {
    const { resources } = await request("resources/list", {});
    $("resource-list").replaceChildren(...resources.map((r) => el("li", {},
      el("button", { className: "item", type: "button", textContent: r.uri, onclick: () => readResource(r.uri) }),
      el("span", { className: "desc", textContent: r.title || r.name || "" }))));
    const { resourceTemplates } = await request("resources/templates/list", {});
    $("template-list").replaceChildren(...resourceTemplates.map((t) => el("li", {},
      el("button", { className: "item", type: "button", textContent: t.uriTemplate, onclick: () => showTemplate(t) }),
      el("span", { className: "desc", textContent: t.description || t.name || "" }))));
  } catch (err) { failure($("resource-view"), err); }
}

async function readResource(uri) {
  showTab("resources");
  const view = $("resource-view");
  view.replaceChildren(el("p", { className: "hint", textContent: `reading ${uri}…` }));
  try {
    const result = await request("resources/read", { uri });
    view.replaceChildren(...result.contents.map((c) => el("div", { className: "result" },
      el("div", { className: "desc", textContent: `${c.uri} ${c.mimeType || ""}` }), contents(c, readResource))));
  } catch (err) { failure(view, err); }
}

// RFC 6570, the simple forms mcpkit's templates use: {name}, {+name}, {?a,b}.
function expand(template, values) {
  return template.replace(/\{([+#?&]?)([^}]+)\}/g, (_, op, names) => {
    const parts = names.split(",").map((n) => [n, values[n] ?? ""]);
    if (op === "?" || op === "&") {
      const q = parts.filter(([, v]) => v !== "").map(([n, v]) => `${n}=${encodeURIComponent(v)}`);
      return q.length ? (op === "?" ? "?" : "&") + q.join("&") : "";
    }
    return parts.map(([, v]) => (op ? encodeURI(v) : encodeURIComponent(v))).join(",");
  });
}

function showTemplate(template) {
  const names = [...template.uriTemplate.matchAll(/\{[+#?&]?([^}]+)\}/g)].flatMap((m) => m[1].split(","));
  const schema = { type: "object", properties: Object.fromEntries(names.map((n) => [n, { type: "string" }])), required: names };
  const form = objectFields(schema, "");
  const summary = el("div", { className: "error" });
  const node = el("form", { className: "template-form" }, el("h4", { textContent: template.uriTemplate }), form.node,
    el("button", { type: "submit", textContent: "Read" }), summary);
  node.onsubmit = (event) => {
    event.preventDefault();
    const [values, errors] = form.read();
    summary.textContent = errors.length ? "Fill in every variable" : "";
    if (!errors.length) readResource(expand(template.uriTemplate, values));
  };
  $("template-detail").replaceChildren(node);
}

// ---------------------------------------------------------------- prompts
async function loadPrompts() {
  try {
    const { prompts } = await request("prompts/list", {});
    $("prompt-list").replaceChildren(...prompts.map((p) => el("li", {},
      el("button", { className: "item", type: "button", textContent: p.name, onclick: () => showPrompt(p) }),
      el("span", { className: "desc", textContent: p.description || "" }))));
  } catch (err) { failure($("prompt-detail"), err); }
}

function showPrompt(prompt) {
  const args = prompt.arguments || [];
  const schema = { type: "object", required: args.filter((a) => a.required).map((a) => a.name),
    properties: Object.fromEntries(args.map((a) => [a.name, { type: "string", title: a.title || a.name, description: a.description }])) };
  const form = objectFields(schema, "");
  const out = el("div");
  const summary = el("div", { className: "error" });
  const node = el("form", { className: "prompt-form" }, el("h3", { textContent: prompt.title || prompt.name }), form.node,
    el("button", { type: "submit", textContent: "Get prompt" }), summary, out);
  node.onsubmit = async (event) => {
    event.preventDefault();
    const [values, errors] = form.read();
    summary.textContent = errors.length ? "Fill in the required arguments" : "";
    if (errors.length) return;
    try {
      const result = await request("prompts/get", { name: prompt.name, arguments: values });
      out.replaceChildren(...(result.description ? [el("p", { className: "desc", textContent: result.description })] : []),
        ...result.messages.map((m) => el("div", { className: "result message" }, el("strong", { textContent: m.role }), block(m.content, readResource))));
    } catch (err) { failure(out, err); }
  };
  $("prompt-detail").replaceChildren(node);
}

// ---------------------------------------------------- the log and the feed
function logged(event) {
  const body = event.body || {};
  const kind = body.method ? (body.id !== undefined ? "request" : "notification") : (body.error ? "error" : "response");
  const key = `${event.direction}:${body.id}`;
  let timing = "";
  let answers = "";
  if (body.method && body.id !== undefined) sentAt.set(key, { at: event.at, method: body.method });
  if (!body.method && body.id !== undefined) {
    // a response pairs with the request of that id that went the other way
    const askedKey = `${event.direction === "sent" ? "received" : "sent"}:${body.id}`;
    const asked = sentAt.get(askedKey);
    sentAt.delete(askedKey);
    if (asked) { timing = ` ${(event.at - asked.at).toFixed(1)} ms`; answers = ` to ${asked.method}`; }
  }
  const text = `${body.method || kind}${answers}${body.id !== undefined ? " #" + body.id : ""}${timing} (${event.size} B, t=${event.at} ms)`;
  const row = el("li", { className: event.direction, textContent: text });
  row.onclick = () => { if (row.childElementCount) row.lastChild.remove(); else row.append(event.body ? tree(event.body) : el("pre", { textContent: event.text })); };
  $("log").append(row);
  $("message-count").textContent = String($("log").childElementCount);
  row.scrollIntoView({ block: "nearest" });
}

function notified(event) {
  const row = el("li", { className: "notification", textContent: `${event.method} ` });
  row.append(tree(event.params ?? {}));
  $("notifications").append(row);
  if (event.method === "notifications/tools/list_changed") loadTools();
  if (event.method === "notifications/resources/list_changed") loadResources();
  if (event.method === "notifications/prompts/list_changed") loadPrompts();
}

function serverAsked(event) {
  const box = $("server-requests");
  if (box.querySelector(".hint")) box.replaceChildren();
  box.append(answerForm(event, (answer) => api("answer", { id: event.id, ...answer })));
}

function serverRequestDone(event) {
  document.getElementById(`ask-${event.id}`)?.remove();
  if (!$("server-requests").childElementCount) $("server-requests").replaceChildren(el("p", { className: "hint", textContent: "None waiting." }));
}

function reloaded(event) {
  const banner = $("banner");
  banner.hidden = false;
  banner.textContent = `Reloaded: ${event.files.join(", ")} changed at ${new Date().toLocaleTimeString()}; the server restarted.`;
}

const handlers = {
  connecting: (e) => status(`connecting to ${e.target}…`),
  connected: (e) => { $("target").value = e.target; connected(e.server); },
  disconnected: (e) => disconnected(e.reason),
  message: logged,
  notification: notified,
  progress: progressed,
  server_request: serverAsked,
  server_request_done: serverRequestDone,
  reload: reloaded,
};

async function start() {
  const state = await api("state");
  const events = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  events.onmessage = (message) => { const event = JSON.parse(message.data); handlers[event.type]?.(event); };
  await new Promise((resolve) => { events.onopen = resolve; });
  document.body.dataset.ready = "true";
  if (state.server) { $("target").value = state.target; connected(state.server); }
  else if (state.initialTarget) { $("target").value = state.initialTarget; $("connect").click(); }
}
start().catch((err) => status(`the inspector backend is gone: ${err.message}`, "failed"));
