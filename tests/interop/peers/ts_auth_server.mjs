// A protected Streamable HTTP server built with the TypeScript SDK, for the mcpkit client's
// authorization interop test: express on 127.0.0.1, port 0, a resource server only. Its tokens
// come from another origin's authorization server (in the test, mcpkit's development one); it
// checks each by RFC 7662 introspection there with a confidential client's id and secret.
//
// Usage: node ts_auth_server.mjs ISSUER CLIENT_ID CLIENT_SECRET
//
// Prints {"port": N} once it listens (the test then gives the authorization server this
// server's URI), reads the authorization server's metadata (RFC 8414), serves the SDK's RFC
// 9728 document (`mcpAuthMetadataRouter`) and the MCP endpoint at /mcp behind
// `requireBearerAuth` (scope `mcp`, audience this server's URI), and prints {"ready": true}.
// Stateless: one transport and server per request. Tool `whoami` answers with the token's
// subject, client, scopes and audience.

import express from "express";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import {
  getOAuthProtectedResourceMetadataUrl,
  mcpAuthMetadataRouter,
} from "@modelcontextprotocol/sdk/server/auth/router.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";

const FETCH_TIMEOUT_MS = 10_000;
const [issuer, clientId, clientSecret] = process.argv.slice(2);
if (!clientSecret) {
  console.error("usage: node ts_auth_server.mjs ISSUER CLIENT_ID CLIENT_SECRET");
  process.exit(2);
}
const introspected = []; // the introspection answers, for the log

async function fetchJson(url, init = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

function introspectingVerifier(endpoint) {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`);
  return {
    async verifyAccessToken(token) {
      const found = await fetchJson(endpoint, {
        method: "POST",
        headers: {
          authorization: `Basic ${basic.toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ token }),
      });
      introspected.push(found);
      if (found.active !== true || found.token_type === "refresh_token") {
        throw new InvalidTokenError("the token is not active");
      }
      return {
        token,
        clientId: found.client_id,
        scopes: (found.scope ?? "").split(" ").filter(Boolean),
        expiresAt: found.exp,
        resource: found.aud ? new URL(found.aud) : undefined,
        extra: { subject: found.sub ?? null, issuer: found.iss ?? null },
      };
    },
  };
}

function mcpServerFor(auth) {
  const server = new McpServer({ name: "ts-protected", version: "1.0.0" });
  server.registerTool("whoami", { description: "Who the access token speaks for." }, async () => ({
    content: [
      {
        type: "text",
        text: JSON.stringify({
          subject: auth.extra.subject,
          client_id: auth.clientId,
          scopes: [...auth.scopes].sort(),
          audience: auth.resource?.href ?? null,
        }),
      },
    ],
  }));
  return server;
}

const app = express();
const listening = app.listen(0, "127.0.0.1");
await new Promise((resolve, reject) => {
  listening.once("listening", resolve);
  listening.once("error", reject);
});
const { port } = listening.address();
const mcpUrl = new URL(`http://127.0.0.1:${port}/mcp`);
process.stdout.write(`${JSON.stringify({ port })}\n`);

const oauthMetadata = await fetchJson(`${issuer}/.well-known/oauth-authorization-server`);
app.use(mcpAuthMetadataRouter({ oauthMetadata, resourceServerUrl: mcpUrl, scopesSupported: ["mcp"] }));
const bearer = requireBearerAuth({
  verifier: introspectingVerifier(oauthMetadata.introspection_endpoint),
  requiredScopes: ["mcp"],
  resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpUrl),
  expectedResource: mcpUrl,
});
app.post("/mcp", express.json(), bearer, async (req, res) => {
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  const server = mcpServerFor(req.auth);
  res.on("close", () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
for (const method of ["get", "delete"]) {
  app[method]("/mcp", bearer, (_req, res) => res.status(405).set("allow", "POST").end());
}
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.on("SIGTERM", () => {
  console.error(`introspected ${introspected.length} tokens`);
  listening.close();
  process.exit(0);
});
