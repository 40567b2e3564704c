// A page that hosts one MCP Apps view with the reference implementation's AppBridge
// (@modelcontextprotocol/ext-apps/app-bridge), bundled by esbuild for the interop test. It
// reaches the MCP server through its own backend (POST /rpc), as a host's client would.
import { AppBridge, PostMessageTransport, getToolUiResourceUri } from "@modelcontextprotocol/ext-apps/app-bridge";

async function rpc(method, params) {
  const reply = await (await fetch("/rpc", { method: "POST", body: JSON.stringify({ method, params }) })).json();
  if (reply.error) throw new Error(reply.error);
  return reply.result;
}

function note(text) {
  const li = document.createElement("li");
  li.textContent = text;
  document.getElementById("said").append(li);
}

async function main() {
  const { tools } = await rpc("tools/list", {});
  const tool = tools.find((t) => t.name === "forecast");
  const uri = getToolUiResourceUri(tool);
  const read = await rpc("resources/read", { uri });
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.style.width = "640px";
  frame.style.height = "360px";
  document.getElementById("host").append(frame);
  const bridge = new AppBridge(
    null,
    { name: "appbridge-test-host", version: "1.0.0" },
    { openLinks: {}, serverTools: {}, serverResources: {}, logging: {} },
    { hostContext: { theme: "dark", displayMode: "inline", availableDisplayModes: ["inline", "fullscreen"] } },
  );
  bridge.oncalltool = async (params) => { note(`tools/call ${params.name}`); return rpc("tools/call", params); };
  bridge.onreadresource = async (params) => rpc("resources/read", params);
  bridge.onrequestdisplaymode = async (params) => { note(`display ${params.mode}`); return { mode: params.mode }; };
  bridge.oninitialized = async () => {
    note("initialized");
    const args = { city: "Oslo" };
    await bridge.sendToolInput({ arguments: args });
    await bridge.sendToolResult(await rpc("tools/call", { name: "forecast", arguments: args }));
  };
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  frame.srcdoc = read.contents[0].text;
  document.body.dataset.ready = "true";
}

main().catch((err) => note(`failed: ${err.message}`));
