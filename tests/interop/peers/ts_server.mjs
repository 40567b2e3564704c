// An MCP server built with the TypeScript SDK (npm @modelcontextprotocol/sdk), served over stdio.
//
// It offers the interop surface every peer server shares: tools `add`, `echo` and `slow`,
// resource `config://app`, template `users://{user_id}/profile` and prompt `review`.

import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer(
  { name: "ts-interop", version: "1.0.0" },
  { instructions: "interop test server" },
);

const text = (value) => ({ content: [{ type: "text", text: value }] });

server.registerTool(
  "add",
  {
    description: "Add two numbers.",
    inputSchema: { a: z.number().int(), b: z.number().int() },
    outputSchema: { result: z.number().int() },
  },
  async ({ a, b }) => ({ ...text(String(a + b)), structuredContent: { result: a + b } }),
);

server.registerTool(
  "echo",
  { description: "Echo the text back.", inputSchema: { text: z.string() } },
  async ({ text: value }) => text(value),
);

server.registerTool(
  "slow",
  {
    description: "Report one progress step per unit of work, then finish.",
    inputSchema: { steps: z.number().int() },
  },
  async ({ steps }, extra) => {
    // Progress goes only to a request that asked for it with a token (spec: utilities/progress).
    const progressToken = extra._meta?.progressToken;
    for (let i = 0; i < steps; i++) {
      if (progressToken !== undefined) {
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress: i + 1, total: steps },
        });
      }
    }
    return text("done");
  },
);

server.registerResource(
  "config",
  "config://app",
  { description: "The application's configuration.", mimeType: "application/json" },
  async (uri) => ({
    contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ debug: false }) }],
  }),
);

server.registerResource(
  "profile",
  new ResourceTemplate("users://{user_id}/profile", { list: undefined }),
  { description: "A user's profile." },
  async (uri, { user_id }) => ({
    contents: [{ uri: uri.href, mimeType: "text/plain", text: `profile of ${user_id}` }],
  }),
);

server.registerPrompt(
  "review",
  { description: "Ask for a code review.", argsSchema: { code: z.string() } },
  ({ code }) => ({
    messages: [{ role: "user", content: { type: "text", text: `Please review:\n${code}` } }],
  }),
);

await server.connect(new StdioServerTransport());
