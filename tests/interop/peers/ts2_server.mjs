// An MCP server built with the TypeScript SDK v2 (npm @modelcontextprotocol/server 2.x), which
// speaks the modern revision 2026-07-28 beside 2025-11-25, served over stdio.
//
// Tools: `echo(text)`, and `deploy(env)`, which asks for a confirmation with a multi
// round-trip request (an elicitation in an InputRequiredResult) before it answers.
// `serveStdio` picks the era from the client's opening (server/discover or initialize) and
// builds the server for it from the factory.

import { McpServer, acceptedContent, inputRequired } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { z } from "zod";

function build() {
  const server = new McpServer(
    { name: "ts2-interop", version: "2.0.0" },
    { capabilities: { tools: {} } },
  );

  server.registerTool(
    "echo",
    { description: "Echo the text back.", inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );

  server.registerTool(
    "deploy",
    { description: "Deploy after a confirmation.", inputSchema: z.object({ env: z.string() }) },
    async ({ env }, ctx) => {
      const schema = z.object({ confirm: z.boolean() });
      const confirmed = acceptedContent(ctx.mcpReq.inputResponses, "confirm", schema);
      if (confirmed?.confirm !== true) {
        return inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({ message: `Deploy to ${env}?`, requestedSchema: schema }),
          },
        });
      }
      return { content: [{ type: "text", text: `deployed to ${env}` }] };
    },
  );
  return server;
}

serveStdio(build);
