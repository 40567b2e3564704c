// The inspector page: talks to its backend (POST /api/*, events over SSE at /api/events); the
// browser holds the login as an HttpOnly cookie, which this script never sees.
import { answerForm } from "./answer.js";
import { closeViews, showView, viewOf } from "./apps.js";
import { currentSettings, initPanel, loadSettings, render as renderPanel, setConnected, writeAddress } from "./connection.js";
import { el, objectFields } from "./form.js";
import { clearFeeds, logged, notified } from "./log.js";
import { TRIES_AGAIN, reloaded, reloadOutcome, reloading } from "./reload.js";
import { block, contents, failureView, toolResult, tree } from "./render.js";

const $ = (id) => document.getElementById(id);
// The one-time code that logged this browser in is spent: keep it out of the address bar (the
// fragment keeps the connection panel's settings, connection.js).
if (location.search) history.replaceState(null, "", "/" + location.hash);
let calls = 0;
// Pages share one session: each names its calls apart from the others' (for progress, cancel).
const pageId = Math.random().toString(36).slice(2, 8);

async function post(action, args) {
  const response = await fetch(`/api/${action}`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(args),
  });
  return response.json();
}

async function api(action, args = {}) {
  const reply = await post(action, args);
  if (reply.cancelled) throw Object.assign(new Error(reply.cancelled), { cancelled: true });
  if (reply.error) throw new Error(typeof reply.error === "string" ? reply.error : `${reply.error.message} (code ${reply.error.code})`);
  return reply.result;
}
const request = (method, params, call) => api("request", { method, params, call });

function failure(where, err) {
  where.replaceChildren(el("div", { className: err.cancelled ? "result is-cancelled" : "result is-error", textContent: String(err.message || err) }));
}

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
$("connect-form").onsubmit = async (event) => {
  event.preventDefault();
  writeAddress();
  await connectTo({ target: $("target").value });
};

// The key of this page's event stream, its first event (a new one if the stream reconnects):
// a command to confirm is shown on that stream alone, and its Run must name this page.
let pageKey = null;
let keyed;
const pageKeyed = new Promise((resolve) => { keyed = resolve; });

async function connectTo(args) {
  hideConfirmation();
  try {
    const reply = await post("connect", { ...args, settings: currentSettings(), page: pageKey });
    // the command itself comes on this page's event stream (askToRun), never in this answer
    if (reply.confirm && !reply.confirm.shown) status("this page cannot be asked to confirm the command: reload it", "failed");
    else if (typeof reply.error === "string") status(reply.error, "failed");  // refused before any connect
  } catch { /* the connect_failed event shows why */ }
}

// A target that starts a process (a file, a module, a command) and was not given on the
// inspector's command line runs only once the person has read the command and pressed Run
// (a click of theirs: a click made by a script is not trusted).
function askToRun(asked) {
  const run = el("button", { id: "confirm-run", type: "button", className: "danger", textContent: "Run it" });
  const cancel = el("button", { id: "confirm-cancel", type: "button", textContent: "Cancel" });
  run.onclick = (event) => { if (event.isTrusted) connectTo({ target: asked.target, confirm: asked.nonce }); };
  cancel.onclick = hideConfirmation;
  $("confirm-panel").replaceChildren(
    el("strong", { textContent: "Run this command on your computer?" }),
    el("pre", { className: "command", textContent: asked.command }),
    el("p", { className: "hint", textContent: "The inspector starts it as you, with your files and permissions, to talk to it as an MCP server. Run it only if you typed it yourself; you are asked once per command." }),
    el("div", { className: "actions" }, run, cancel));
  $("confirm-panel").hidden = false;
}

function hideConfirmation() {
  $("confirm-panel").hidden = true;
  $("confirm-panel").replaceChildren();
}
$("disconnect").onclick = () => api("disconnect").catch(() => {});

const listed = { tools: ["tool-list", "tool-detail", "Choose a tool to call it."],
  resources: ["resource-list", "resource-view", "Choose a resource to read it."],
  prompts: ["prompt-list", "prompt-detail", "Choose a prompt to render it."] };

// Forget the previous server: its info, lists, open forms, held requests and messages.
function forget(hint) {
  $("tab-server").replaceChildren(el("p", { className: "hint", textContent: hint }));
  for (const [name, [list, detail, prompt]] of Object.entries(listed)) {
    $(list).replaceChildren();
    $(detail).replaceChildren(el("p", { className: "hint", textContent: prompt }));
    $(`${name}-count`).textContent = "";
  }
  $("template-list").replaceChildren();
  $("template-detail").replaceChildren();
  $("server-requests").replaceChildren(el("p", { className: "hint", textContent: "None waiting." }));
  clearFeeds();
}

function connecting(event) {
  status(`connecting to ${event.target}…`, "busy");
  $("error-panel").hidden = true;
  $("error-panel").replaceChildren();
  $("disconnect").disabled = true;
  forget(`Connecting to ${event.target}…`);
}

function connectFailed(event) {
  status("could not connect (why is shown below)", "failed");
  const panel = $("error-panel");
  panel.replaceChildren(...failureView(event.target, event.failure));
  panel.hidden = false;
  const hint = reloading() ? `Not connected: the new code did not start (why is shown above); ${TRIES_AGAIN}.`
    : "Not connected: fix the error above and connect again.";
  $("tab-server").replaceChildren(el("p", { className: "hint", textContent: hint }));
  for (const [, detail] of Object.values(listed)) $(detail).replaceChildren(el("p", { className: "hint", textContent: "Not connected." }));
  reloadOutcome(false);
}

function fact(term, value) {
  return value ? [el("dt", { textContent: term }), el("dd", { textContent: value })] : [];
}

function connected(server) {
  reloadOutcome(true);
  setConnected(true);
  const info = server.serverInfo;
  status(`connected to ${info.name} ${info.version}`, "connected");
  $("disconnect").disabled = false;
  $("error-panel").hidden = true;
  const caps = server.capabilities || {};
  const view = el("div", { className: "server-info" },
    el("h2", { className: "server-name", textContent: info.title || info.name }),
    el("dl", { className: "facts" }, ...fact("Name", info.name), ...fact("Version", info.version),
      ...fact("Protocol", `${server.protocolVersion} (${server.modern ? "per request, no session" : "a session, by initialize"})`), ...fact("Offers", Object.keys(caps).join(", ") || "nothing")));
  if (server.instructions) view.append(el("h3", { textContent: "Instructions" }), el("p", { className: "instructions", textContent: server.instructions }));
  view.append(el("h3", { textContent: "Capabilities" }), tree(caps));
  $("tab-server").replaceChildren(view);
  toolsLoaded = caps.tools ? loadTools() : Promise.resolve();
  if (caps.resources) loadResources();
  if (caps.prompts) loadPrompts();
}

function disconnected(reason) {
  closeViews("disconnected");
  status(`not connected${reason && reason !== "closed" ? ": " + reason : ""}`, reason === "closed" ? "" : "failed");
  setConnected(false);
  $("disconnect").disabled = true;
}

function entry(name, description, onclick) {
  return el("li", {}, el("button", { className: "item", type: "button", onclick: (event) => {
    for (const b of event.currentTarget.closest("ul").querySelectorAll("button.item")) b.classList.remove("selected");
    event.currentTarget.classList.add("selected");
    onclick();
  } }, el("span", { className: "item-name", textContent: name }), description ? el("span", { className: "item-desc", textContent: description }) : null));
}

// ------------------------------------------------------------------ tools
let knownTools = [];
let toolsLoaded = Promise.resolve();
async function loadTools() {
  try {
    const { tools } = await request("tools/list", {});
    knownTools = tools;
    $("tools-count").textContent = String(tools.length);
    const described = (tool) => {
      const ui = tool._meta && tool._meta.ui;
      const only = ui && Array.isArray(ui.visibility) && !ui.visibility.includes("model") ? "[for its view only] " : "";
      return only + (tool.description || "") + (viewOf(tool) ? " · has a view" : "");
    };
    $("tool-list").replaceChildren(...tools.map((tool) => entry(tool.name, described(tool), () => showTool(tool))));
  } catch (err) { failure($("tool-detail"), err); }
}

// A tool with a view (MCP Apps, apps.js): shown from the call's start, under the result. The
// last one is shown again after `mcpkit dev` restarted the server (its HTML may have changed).
let lastView = null;
async function openView(where, tool, args) {
  if (!viewOf(tool)) return null;
  await closeViews("another call");
  lastView = { where, tool, args, result: undefined };
  try {
    return await showView({
      where, tool, args, api, request: (method, params) => request(method, params),
      tools: async () => knownTools,
      note: (kind, text) => notified({ at: 0, method: `view: ${kind}`, params: { level: kind, data: text } }),
    });
  } catch (err) {
    where.append(el("div", { className: "result is-error", textContent: `The view could not be shown: ${err.message || err}` }));
    return null;
  }
}

async function showAgain(last) {
  await toolsLoaded;  // the new server's tools: the form is opened again, with the last call
  const tool = knownTools.find((t) => t.name === last.tool.name);
  if (!tool || !viewOf(tool)) return;
  showTab("tools");
  const { out, views } = showTool(tool);
  if (last.result !== undefined) out.replaceChildren(toolResult(last.result, readResource));
  const view = await openView(views, tool, last.args);
  if (view && last.result !== undefined) view.result(last.result);
  if (lastView) lastView.result = last.result;
}

function showTool(tool) {
  const form = objectFields(tool.inputSchema || { type: "object" });
  const bar = el("progress", { hidden: true });
  const told = el("span", { className: "progress-text" });
  const out = el("div", { className: "outcome" });
  const run = el("button", { type: "submit", className: "primary", textContent: "Call" });
  const cancel = el("button", { type: "button", className: "cancel danger", textContent: "Cancel", hidden: true });
  const summary = el("div", { className: "error summary" });
  const views = el("div", { className: "view-slot" });
  const node = el("form", { className: "tool-form" }, el("h2", { textContent: tool.title || tool.name }),
    tool.title ? el("code", { className: "subtitle", textContent: tool.name }) : null,
    el("p", { className: "desc", textContent: tool.description || "" }), form.node,
    el("div", { className: "actions" }, run, cancel, bar, told), summary, views, out);
  node.onsubmit = async (event) => {
    event.preventDefault();
    run.disabled = true;  // while patterns are checked (off this thread, see patterns.js)
    const [args, errors] = await form.read();
    summary.textContent = errors.length ? `Fix ${errors.length} field(s) first: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}` : "";
    if (errors.length) { run.disabled = false; return; }
    const call = `${pageId}-c${++calls}`;
    bar.id = `progress-${call}`; bar.hidden = true; bar.removeAttribute("value"); told.textContent = "";
    cancel.hidden = false; cancel.disabled = false; run.disabled = true;
    cancel.onclick = () => { cancel.disabled = true; api("cancel", { call }).catch((err) => failure(out, err)); };
    out.replaceChildren(el("p", { className: "hint running", textContent: `Calling ${tool.name}…` }));
    const view = await openView(views, tool, args);
    try {
      const result = await request("tools/call", { name: tool.name, arguments: args }, call);
      out.replaceChildren(toolResult(result, readResource));
      if (view) { view.result(result); lastView.result = result; }
    } catch (err) {
      failure(out, err);
      if (view) view.cancelled(err.cancelled ? "cancelled in the inspector" : String(err.message || err));
    } finally { cancel.hidden = true; run.disabled = false; bar.hidden = true; told.textContent = ""; }
  };
  $("tool-detail").replaceChildren(node);
  return { out, views };
}

function progressed(event) {
  const bar = $(`progress-${event.call}`);
  if (!bar) return;
  bar.hidden = false;
  if (event.total) { bar.max = event.total; bar.value = event.progress; } else bar.removeAttribute("value");
  bar.title = event.message || `${event.progress}${event.total ? " / " + event.total : ""}`;
  bar.nextElementSibling.textContent = `${event.progress}${event.total ? " / " + event.total : ""}${event.message ? " · " + event.message : ""}`;
}

// -------------------------------------------------------------- resources
async function loadResources() {
  try {
    const { resources } = await request("resources/list", {});
    $("resource-list").replaceChildren(...resources.map((r) => entry(r.uri, r.title || r.name, () => readResource(r.uri))));
    const { resourceTemplates } = await request("resources/templates/list", {});
    $("template-list").replaceChildren(...resourceTemplates.map((t) => entry(t.uriTemplate, t.description || t.name, () => showTemplate(t))));
    $("resources-count").textContent = String(resources.length + resourceTemplates.length);
  } catch (err) { failure($("resource-view"), err); }
}

async function readResource(uri) {
  showTab("resources");
  const view = $("resource-view");
  view.replaceChildren(el("p", { className: "hint", textContent: `reading ${uri}…` }));
  try {
    const result = await request("resources/read", { uri });
    view.replaceChildren(...result.contents.map((c) => el("div", { className: "result" },
      el("div", { className: "result-head" }, el("code", { textContent: c.uri }), c.mimeType ? el("span", { className: "type", textContent: c.mimeType }) : null),
      contents(c, readResource))));
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
  const node = el("form", { className: "template-form" }, el("h2", { textContent: template.uriTemplate }),
    template.description ? el("p", { className: "desc", textContent: template.description }) : null, form.node,
    el("div", { className: "actions" }, el("button", { type: "submit", className: "primary", textContent: "Read" })), summary);
  node.onsubmit = async (event) => {
    event.preventDefault();
    const [values, errors] = await form.read();
    summary.textContent = errors.length ? "Fill in every variable" : "";
    if (!errors.length) readResource(expand(template.uriTemplate, values));
  };
  $("template-detail").replaceChildren(node);
}

// ---------------------------------------------------------------- prompts
async function loadPrompts() {
  try {
    const { prompts } = await request("prompts/list", {});
    $("prompts-count").textContent = String(prompts.length);
    $("prompt-list").replaceChildren(...prompts.map((p) => entry(p.name, p.description, () => showPrompt(p))));
  } catch (err) { failure($("prompt-detail"), err); }
}

function showPrompt(prompt) {
  const args = prompt.arguments || [];
  const schema = { type: "object", required: args.filter((a) => a.required).map((a) => a.name),
    properties: Object.fromEntries(args.map((a) => [a.name, { type: "string", title: a.title || a.name, description: a.description }])) };
  const form = objectFields(schema, "");
  const out = el("div");
  const summary = el("div", { className: "error" });
  const node = el("form", { className: "prompt-form" }, el("h2", { textContent: prompt.title || prompt.name }),
    prompt.description ? el("p", { className: "desc", textContent: prompt.description }) : null, form.node,
    el("div", { className: "actions" }, el("button", { type: "submit", className: "primary", textContent: "Get prompt" })), summary, out);
  node.onsubmit = async (event) => {
    event.preventDefault();
    const [values, errors] = await form.read();
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

// ------------------------------------------------- the server's own messages
function notification(event) {
  notified(event);
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

const handlers = {
  page: (e) => { pageKey = e.key; keyed(); },
  confirm: askToRun,
  connecting,
  connect_failed: connectFailed,
  connected: (e) => {
    $("target").value = e.target;
    const again = reloading() && lastView !== null ? lastView : null;
    connected(e.server);
    if (again) showAgain(again);
  },
  disconnected: (e) => disconnected(e.reason),
  message: logged,
  notification,
  progress: progressed,
  server_request: serverAsked,
  server_request_done: serverRequestDone,
  reload: reloaded,
};

async function start() {
  const state = await api("state");
  const events = new EventSource("/api/events");
  events.onmessage = (message) => { const event = JSON.parse(message.data); handlers[event.type]?.(event); };
  events.onerror = () => {  // a stream refused for good: the inspector stopped, or logged us out
    if (events.readyState === EventSource.CLOSED) status("the inspector stopped, or logged this browser out: open the link it printed", "failed");
  };
  await pageKeyed;  // the stream is open, and this page can be asked to confirm a command
  const kept = loadSettings(state.settings, state.commandLineHeaders);
  initPanel(api);
  document.body.dataset.ready = "true";
  if (state.server) { $("target").value = state.target; renderPanel(); connected(state.server); }
  else if (kept || state.initialTarget) {
    $("target").value = kept || state.initialTarget;
    renderPanel();
    $("connect-form").requestSubmit();
  }
  writeAddress();
}
start().catch((err) => status(`the inspector backend is gone: ${err.message}`, "failed"));
