// Complete the OAuth 2.1 flow against a protected MCP server with the TypeScript SDK's
// StreamableHTTPClientTransport and its `authProvider`, headlessly, and print a summary.
//
// Usage: node ts_auth_client.mjs URL REDIRECT_URI
//
// The provider implements the SDK's OAuthClientProvider with in-memory storage: the SDK
// discovers the server's protected resource metadata and its authorization server, registers
// the client dynamically and builds the PKCE authorization URL; `redirectToAuthorization`
// follows that URL with one GET (the development authorization server approves at once) and
// reads `code`, `state` and `iss` from the 302's Location instead of opening a browser. The
// first connection then fails with UnauthorizedError, as the SDK documents; the peer checks
// `state`, calls `transport.finishAuth(code)` (the token request) and connects again with the
// token. It lists tools, calls `whoami` and prints one JSON object (the shape the official
// client's summary has in test_auth_interop.py), exiting 0; on failure it prints the error to
// stderr and exits 1.

import { randomBytes } from "node:crypto";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const REQUEST_TIMEOUT_MS = 10_000;

class HeadlessProvider {
  constructor(redirectUri) {
    this.redirectUri = redirectUri;
    this.stored = { client: undefined, tokens: undefined, verifier: undefined };
    this.sentState = undefined;
    this.authorizationUrls = [];
    this.answer = undefined; // the query of the authorization server's redirect
  }

  get redirectUrl() {
    return this.redirectUri;
  }

  get clientMetadata() {
    return {
      client_name: "ts-interop",
      redirect_uris: [this.redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  state() {
    this.sentState = randomBytes(16).toString("base64url");
    return this.sentState;
  }

  clientInformation() {
    return this.stored.client;
  }

  saveClientInformation(info) {
    this.stored.client = info;
  }

  tokens() {
    return this.stored.tokens;
  }

  saveTokens(tokens) {
    this.stored.tokens = tokens;
  }

  saveCodeVerifier(verifier) {
    this.stored.verifier = verifier;
  }

  codeVerifier() {
    if (this.stored.verifier === undefined) throw new Error("no PKCE code verifier was saved");
    return this.stored.verifier;
  }

  // The "browser": one GET, and the redirect read rather than followed.
  async redirectToAuthorization(url) {
    this.authorizationUrls.push(url.href);
    const response = await fetch(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const location = response.headers.get("location");
    if (response.status !== 302 || !location?.startsWith(`${this.redirectUri}?`)) {
      throw new Error(`authorization answered ${response.status} to ${location}: ${await response.text()}`);
    }
    this.answer = new URL(location).searchParams;
  }

  // What the redirect brought back, checked as a client must (the `state` it sent).
  authorizationCode() {
    const answer = this.answer;
    if (answer === undefined) throw new Error("the authorization server was never visited");
    if (answer.get("error")) throw new Error(`authorization refused: ${answer.get("error")}`);
    if (answer.get("state") !== this.sentState) throw new Error("the redirect's state is not ours");
    return answer.get("code");
  }
}

async function connect(url, provider) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  const client = new Client({ name: "ts-auth-client", version: "1.0.0" }, { capabilities: {} });
  await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
  return { client, transport };
}

async function summarize([url, redirectUri]) {
  const provider = new HeadlessProvider(redirectUri);
  let firstAttempt = "connected";
  try {
    const { client } = await connect(url, provider);
    await client.close();
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    firstAttempt = "unauthorized";
  }
  // The token request, by the transport that met the 401 (it remembers the resource metadata).
  const pending = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await pending.finishAuth(provider.authorizationCode());
  const { client, transport } = await connect(url, provider);
  try {
    const options = { timeout: REQUEST_TIMEOUT_MS };
    const tools = (await client.listTools(undefined, options)).tools.map((t) => t.name).sort();
    const whoami = await client.callTool({ name: "whoami", arguments: {} }, undefined, options);
    const tokens = provider.stored.tokens;
    return {
      client: "ts",
      first_attempt: firstAttempt,
      server_name: client.getServerVersion()?.name ?? null,
      tools,
      whoami: JSON.parse(whoami.content.find((block) => block.type === "text").text),
      client_id: provider.stored.client?.client_id ?? null,
      token_type: tokens?.token_type ?? null,
      refresh_token: Boolean(tokens?.refresh_token),
      authorization_url:
        provider.authorizationUrls.length === 1 ? provider.authorizationUrls[0] : provider.authorizationUrls,
      iss: provider.answer?.get("iss") ?? null,
    };
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
}

await runPeerClient("ts_auth_client.mjs", summarize, OVERALL_TIMEOUT_MS);
