// The inspector as an MCP Apps host (SEP-1865, docs/inspector.md "Views"): a tool whose
// `_meta.ui.resourceUri` names a view is shown in it. The view's HTML loads in the sandbox
// proxy (another origin: the inspector's sandbox port), and this page answers the view's
// JSON-RPC: ui/initialize with the host context, the tool's input and result, its tools/call
// (tools the view may call only) and resources/read forwarded to the server, links opened
// once the person confirms (asks.js), display modes, sizes, and theme changes.
import { LINK_ASKS_PER_MINUTE, MESSAGES_PER_MINUTE, askToOpen, budget, checkLink } from "./asks.js";
import { el } from "./form.js";
import { currentTheme } from "./look.js";

const PROTOCOL = "2026-01-26";
const MODES = ["inline", "fullscreen"];
const live = new Set();
let sandboxPort;

// The view a tool names: `_meta.ui.resourceUri`, or the deprecated flat key.
export function viewOf(tool) {
  const meta = (tool && tool._meta) || {};
  const ui = meta.ui && typeof meta.ui === "object" ? meta.ui : {};
  const uri = typeof ui.resourceUri === "string" ? ui.resourceUri : meta["ui/resourceUri"];
  return typeof uri === "string" && uri.startsWith("ui://") ? uri : null;
}

// Whether a view may call the tool (`visibility` with "app", the default).
export function forApp(tool) {
  const ui = tool && tool._meta && tool._meta.ui;
  return !ui || !Array.isArray(ui.visibility) || ui.visibility.includes("app");
}

async function sandboxOrigin(api) {
  if (sandboxPort === undefined) sandboxPort = (await api("sandbox")).port;
  return sandboxPort ? `http://${location.hostname}:${sandboxPort}` : null;
}

// Show `tool`'s view for one call in `where`, from the call's start (SEP-1865, "Lifecycle":
// the view initializes while the tool runs); resolves to the view, whose `result(r)` and
// `cancelled(reason)` end the call for it, or to null if this inspector has no sandbox.
// `tools()` gives the server's tools, `request(method, params)` sends to the server,
// `note(kind, text)` shows what the view says to the host.
export async function showView({ where, tool, args, api, request, tools, note }) {
  const origin = await sandboxOrigin(api);
  const uri = viewOf(tool);
  if (!origin || !uri) return null;
  const read = await request("resources/read", { uri });
  const contents = (read.contents || []).find((c) => c.uri === uri) || (read.contents || [])[0];
  if (!contents || typeof contents.text !== "string") throw new Error(`the view ${uri} has no HTML`);
  const ui = (contents._meta && contents._meta.ui) || {};
  const frame = el("iframe", { className: "view-frame", title: `View ${uri}` });
  frame.setAttribute("sandbox", "allow-scripts allow-same-origin");  // the proxy's, as SEP-1865 asks
  frame.src = `${origin}/sandbox?host=${encodeURIComponent(location.origin)}`;
  const said = el("ol", { className: "view-said feed" });
  const box = el("div", { className: "view" + (ui.prefersBorder === false ? " borderless" : "") },
    el("div", { className: "view-bar" }, el("code", { textContent: uri }),
      el("span", { className: "view-mode", textContent: "inline" })),
    frame, said);
  const view = { frame, box, uri, mode: "inline", modes: MODES, ready: false, pending: new Map(), ids: 0, ending: null,
    linkAsks: budget(LINK_ASKS_PER_MINUTE), messages: budget(MESSAGES_PER_MINUTE), linkWaiting: false };
  live.add(view);
  const post = (message) => frame.contentWindow && frame.contentWindow.postMessage(message, origin);
  const answer = (id, result) => post({ jsonrpc: "2.0", id, result });
  const refuse = (id, code, message) => post({ jsonrpc: "2.0", id, error: { code, message } });
  const context = () => ({
    theme: currentTheme(), displayMode: view.mode, availableDisplayModes: MODES,
    containerDimensions: { width: frame.clientWidth || 640, maxHeight: 640 },
    locale: navigator.language, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    platform: "web", userAgent: "mcpkit-inspector", toolInfo: { tool },
  });
  const said_ = (kind, text) => { said.append(el("li", {}, el("span", { className: "origin view", textContent: kind }), " ", text)); note(kind, text); };
  view.notify = (method, params) => { if (view.ready) post({ jsonrpc: "2.0", method, params }); };
  // How the call ended, sent once the view is initialized (now, if it is).
  const end = (method, params) => { view.ending = { method, params }; view.notify(method, params); };
  view.result = (result) => end("ui/notifications/tool-result", result);
  view.cancelled = (reason) => end("ui/notifications/tool-cancelled", { reason });
  view.setMode = (mode) => {
    view.mode = mode;
    box.classList.toggle("fullscreen", mode === "fullscreen");
    box.querySelector(".view-mode").textContent = mode;
  };
  view.teardown = (reason) => new Promise((resolve) => {
    const id = `host-${++view.ids}`;
    const done = () => { view.pending.delete(id); live.delete(view); box.remove(); resolve(); };
    view.pending.set(id, done);
    post({ jsonrpc: "2.0", id, method: "ui/resource-teardown", params: { reason } });
    setTimeout(done, 1000);  // a view that does not answer is removed anyway
  });
  // One question at a time, LINK_ASKS_PER_MINUTE a minute; the link checked, then the
  // person asked, in the page (the host shown large: it is where the link goes).
  const openLink = async (id, text) => {
    if (view.linkWaiting) { refuse(id, -32000, "A link is already waiting for the person's answer"); return; }
    if (!view.linkAsks.take()) { refuse(id, -32000, `Too many links: a view may ask at most ${LINK_ASKS_PER_MINUTE} a minute`); return; }
    const checked = checkLink(text);
    if (checked.error) { refuse(id, -32602, checked.error); said_("link refused", text); return; }
    view.linkWaiting = true;
    const opened = await askToOpen(box, frame, checked.url).finally(() => { view.linkWaiting = false; });
    if (!opened) { refuse(id, -32000, "Link opening denied by user"); said_("link refused", checked.url.href); return; }
    said_("link opened", checked.url.href);
    answer(id, {});
  };
  view.onmessage = async (message) => {
    const { id, method, params } = message;
    if (method === undefined) {  // an answer to ours (the teardown)
      const done = view.pending.get(id);
      if (done) done();
      return;
    }
    if (method === "ui/notifications/sandbox-proxy-ready") {
      // the inspector keeps the HTML, and serves it on the sandbox origin under its policy
      try {
        const { view: key } = await api("view", { html: contents.text, csp: ui.csp ?? null });
        post({ jsonrpc: "2.0", method: "ui/notifications/sandbox-resource-ready",
          params: { view: key, csp: ui.csp, permissions: ui.permissions } });
      } catch (err) {
        said_("view not shown", String(err.message || err));
      }
      return;
    }
    if (method === "ui/notifications/initialized") {
      view.ready = true;
      view.notify("ui/notifications/tool-input", { arguments: args || {} });
      if (view.ending) view.notify(view.ending.method, view.ending.params);
      return;
    }
    if (method === "ui/notifications/size-changed") {
      const height = Number(params && params.height);
      if (height > 0 && view.mode === "inline") frame.style.height = `${Math.min(Math.ceil(height), 640)}px`;
      return;
    }
    if (method === "notifications/message") {
      if (view.messages.take()) said_("log", `${params && params.level}: ${JSON.stringify(params && params.data)}`);
      return;  // past the view's budget: dropped
    }
    if (id === undefined) return;  // other notifications: nothing to do
    if ((method === "ui/message" || method === "ui/update-model-context") && !view.messages.take()) {
      refuse(id, -32000, `Too many messages: a view may show at most ${MESSAGES_PER_MINUTE} a minute`);
      return;
    }
    try {
      if (method === "ui/initialize") {
        const asked = (params && params.appCapabilities && params.appCapabilities.availableDisplayModes) || MODES;
        view.modes = MODES.filter((m) => asked.includes(m));
        answer(id, {
          protocolVersion: PROTOCOL, hostInfo: { name: "mcpkit-inspector", version: "1" },
          hostCapabilities: { openLinks: {}, serverTools: {}, serverResources: {}, logging: {},
            sandbox: { csp: ui.csp || {}, permissions: ui.permissions || {} } },
          hostContext: context(),
        });
      } else if (method === "ping") {
        answer(id, {});
      } else if (method === "tools/call") {
        const name = params && params.name;
        const known = (await tools()).find((t) => t.name === name);
        if (!known || !forApp(known)) { refuse(id, -32602, `the view may not call ${name}`); said_("refused", `tools/call ${name}`); return; }
        answer(id, await request("tools/call", { name, arguments: (params && params.arguments) || {} }));
      } else if (method === "resources/read") {
        answer(id, await request("resources/read", { uri: params && params.uri }));
      } else if (method === "ui/open-link") {
        await openLink(id, String(params && params.url));
      } else if (method === "ui/message") {
        // One content block, or several (as the reference SDK sends): their text, else JSON.
        const content = params && params.content;
        const blocks = Array.isArray(content) ? content : [content];
        said_("message", blocks.map((b) => (b && typeof b.text === "string" ? b.text : JSON.stringify(b))).join(" "));
        answer(id, {});
      } else if (method === "ui/update-model-context") {
        said_("model context", JSON.stringify(params));
        answer(id, {});
      } else if (method === "ui/request-display-mode") {
        const mode = params && params.mode;
        if (MODES.includes(mode) && view.modes.includes(mode)) view.setMode(mode);
        answer(id, { mode: view.mode });
        view.notify("ui/notifications/host-context-changed", { displayMode: view.mode });
      } else {
        refuse(id, -32601, `Method not found: ${method}`);
      }
    } catch (err) {
      refuse(id, -32603, String(err.message || err));
    }
  };
  where.append(box);
  return view;
}

// Messages from the views: each from its own sandbox frame, and that frame's origin alone.
window.addEventListener("message", (event) => {
  for (const view of live) {
    if (event.source === view.frame.contentWindow && sandboxPort && event.origin === `http://${location.hostname}:${sandboxPort}`) {
      if (event.data && event.data.jsonrpc === "2.0") view.onmessage(event.data);
      return;
    }
  }
});

// The theme toggle, or the system's light/dark setting the page follows: each view hears of it.
const themeChanged = () => {
  for (const view of live) view.notify("ui/notifications/host-context-changed", { theme: currentTheme() });
};
new MutationObserver(themeChanged).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", themeChanged);

// Before a view goes (another call, a disconnect): it is told, and given a moment to answer.
export async function closeViews(reason) {
  await Promise.all([...live].map((view) => view.teardown(reason)));
}
