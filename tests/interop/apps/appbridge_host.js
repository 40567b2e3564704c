// A web host of one MCP Apps view built from the reference implementation, for the interop
// test (bundled by esbuild): the TypeScript SDK's client speaks to the MCP server over
// Streamable HTTP (this page's origin, /mcp) declaring the UI extension, and ext-apps' AppBridge
// speaks to the view through a sandbox proxy on another origin (SEP-1865, "Sandbox proxy"),
// forwarding the view's tool calls to the server through that client. The test reads
// `window.host`: every message AppBridge sent or received (`wire`), what it reported, and what
// the host learned from the server.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import {
  AppBridge,
  PostMessageTransport,
  RESOURCE_MIME_TYPE,
  getToolUiResourceUri,
  isToolVisibilityAppOnly,
} from "@modelcontextprotocol/ext-apps/app-bridge";
import { EXTENSION_ID } from "@modelcontextprotocol/ext-apps/server";

const HOST_INFO = { name: "appbridge-test-host", version: "1.0.0" };
const ASKED = new URL(location.href).searchParams;
const TOOL = "forecast";
const ARGUMENTS = { city: ASKED.get("city") };

const host = {
  wire: [], // {from: "host" | "view", message}, in order
  sizes: [], // what AppBridge's "sizechange" event reported
  events: [], // the steps the host took, in order
  tools: [],
  view: null,
  failed: null,
};
window.host = host;

function note(text) {
  host.events.push(text);
  const li = document.createElement("li");
  li.textContent = text;
  document.getElementById("said").append(li);
}

// The transport AppBridge is given, recording each message in both directions.
function recorded(transport) {
  return new Proxy(transport, {
    get(target, name) {
      if (name === "send") {
        return (message, options) => {
          host.wire.push({ from: "host", message });
          return target.send(message, options);
        };
      }
      const value = target[name];
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(target, name, value) {
      target[name] =
        name === "onmessage" && typeof value === "function"
          ? (message, extra) => {
              host.wire.push({ from: "view", message });
              value(message, extra);
            }
          : value;
      return true;
    },
  });
}

async function connectClient() {
  // `negotiation`: the client's versionNegotiation mode; none, the SDK's default handshake.
  const mode = ASKED.get("negotiation");
  const client = new Client(HOST_INFO, {
    capabilities: { extensions: { [EXTENSION_ID]: { mimeTypes: [RESOURCE_MIME_TYPE] } } },
    ...(mode ? { versionNegotiation: { mode } } : {}),
  });
  await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", location.href)));
  return client;
}

// The tool's view as the host finds it: through the tool's metadata, read from the server.
async function findView(client) {
  const { tools } = await client.listTools();
  host.tools = tools.map((t) => ({
    name: t.name,
    resourceUri: getToolUiResourceUri(t) ?? null,
    appOnly: isToolVisibilityAppOnly(t),
  }));
  const uri = getToolUiResourceUri(tools.find((t) => t.name === TOOL));
  const { contents } = await client.readResource({ uri });
  const [view] = contents;
  host.view = { uri: view.uri, mimeType: view.mimeType, ui: view._meta?.ui ?? null, html: view.text };
  if (view.mimeType !== RESOURCE_MIME_TYPE) throw new Error(`view type ${view.mimeType}`);
  return view;
}

function bridgeFor(client, view, frame) {
  let context = {
    theme: "dark",
    displayMode: "inline",
    availableDisplayModes: ["inline", "fullscreen"],
    platform: "web",
    locale: "en-US",
  };
  const bridge = new AppBridge(client, HOST_INFO, { serverTools: {}, serverResources: {}, logging: {} }, { hostContext: context });
  // AppBridge keeps the context it is given and sends what differs from it: a new one each time.
  const change = (changes) => {
    context = { ...context, ...changes };
    bridge.setHostContext(context);
  };
  const ui = view._meta?.ui ?? {};
  bridge.onsandboxready = () => {
    note("sandbox ready");
    bridge.sendSandboxResourceReady({ html: view.text, csp: ui.csp, permissions: ui.permissions });
  };
  bridge.addEventListener("sizechange", ({ width, height }) => {
    host.sizes.push({ width, height });
    if (height != null) frame.style.height = `${height}px`;
  });
  bridge.onrequestdisplaymode = async ({ mode }) => {
    change({ displayMode: context.availableDisplayModes.includes(mode) ? mode : context.displayMode });
    return { mode: context.displayMode };
  };
  // The spec: nothing goes to the view before it says it is initialized.
  bridge.oninitialized = async () => {
    note("initialized");
    await bridge.sendToolInput({ arguments: ARGUMENTS });
    const result = await client.callTool({ name: TOOL, arguments: ARGUMENTS });
    await bridge.sendToolResult(result);
    note("tool result sent");
  };
  host.change = change;
  host.teardown = async () => {
    const answer = await bridge.teardownResource({ reason: "test done" });
    frame.remove();
    note("torn down");
    return answer;
  };
  return bridge;
}

async function main() {
  const sandbox = ASKED.get("sandbox");
  const client = await connectClient();
  const view = await findView(client);
  const frame = document.createElement("iframe");
  frame.id = "sandbox";
  // The spec's permissions for the proxy, which gives the view an opaque origin of its own.
  frame.setAttribute("sandbox", "allow-scripts allow-same-origin");
  frame.style.cssText = `width: 640px; height: 360px; border: ${view._meta?.ui?.prefersBorder ? "1px solid #888" : "0"};`;
  document.getElementById("host").append(frame);
  const bridge = bridgeFor(client, view, frame);
  // Connected before the proxy loads, so its first message is heard.
  await bridge.connect(recorded(new PostMessageTransport(frame.contentWindow, frame.contentWindow)));
  frame.src = `${sandbox}/sandbox?host=${encodeURIComponent(location.origin)}`;
  note("connected");
}

main().catch((err) => {
  host.failed = String(err?.stack || err);
  note(`failed: ${err?.message || err}`);
});
