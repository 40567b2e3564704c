// Complete the OAuth 2.1 flow against a protected MCP server with the TypeScript SDK's
// StreamableHTTPClientTransport and its `authProvider`, headlessly, and print a summary.
//
// Usage: node ts_auth_client.mjs URL REDIRECT_URI [AUTH_METHOD]
//
// AUTH_METHOD is the `token_endpoint_auth_method` it registers with (default `none`).
//
// The provider implements the SDK's OAuthClientProvider with in-memory storage: the SDK
// discovers the server's protected resource metadata and its authorization server, registers
// the client dynamically and builds the PKCE authorization URL; `redirectToAuthorization`
// follows that URL with one GET (the development authorization server approves at once) and
// reads `code`, `state` and `iss` from the 302's Location instead of opening a browser. The
// first connection then fails with UnauthorizedError, as the SDK documents; the peer checks
// `state`, calls `transport.finishAuth(code)` (the token request) and connects again with the
// token. It lists tools, calls `whoami`, then `rotate_secrets`, whose 403 insufficient_scope
// makes the transport authorize again for more scopes (spec: "Scope Challenge Handling"), and
// prints one JSON object (the shape the official
// client's summary has in test_auth_interop.py), exiting 0; on failure it prints the error to
// stderr and exits 1.

import { randomBytes } from "node:crypto";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const REQUEST_TIMEOUT_MS = 10_000;

const firstText = (result) => result.content?.find((block) => block.type === "text")?.text ?? null;
const jsonText = (result) => JSON.parse(firstText(result));

class HeadlessProvider {
  constructor(redirectUri, authMethod) {
    this.redirectUri = redirectUri;
    this.authMethod = authMethod;
    this.stored = { client: undefined, tokens: undefined, verifier: undefined };
    this.sentState = undefined;
    this.authorizationUrls = [];
    this.answer = undefined; // the query of the authorization server's redirect
    this.keepRefreshTokens = true;
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
      token_endpoint_auth_method: this.authMethod,
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
    const tokens = this.stored.tokens;
    return this.keepRefreshTokens || !tokens ? tokens : { ...tokens, refresh_token: undefined };
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

async function summarize([url, redirectUri, authMethod = "none"]) {
  const provider = new HeadlessProvider(redirectUri, authMethod);
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
    const call = (name) => client.callTool({ name, arguments: {} }, undefined, options);
    const whoami = await call("whoami");
    const tokens = provider.stored.tokens;
    const refreshToken = Boolean(tokens?.refresh_token);
    // A 403 insufficient_scope: the transport authorizes again for the challenge's scopes
    // (redirecting, hence UnauthorizedError); the token request, then the call once more.
    // SDK 1.32 refreshes instead while it holds a refresh token, and a refresh cannot widen
    // scopes (RFC 6749 section 6), so the retry meets the same 403 and the transport gives up
    // (typescript-sdk issue #2255). Then this client stops keeping refresh tokens, which the
    // spec allows, and the step-up proper goes through.
    const stepUp = async () => {
      try {
        return await call("rotate_secrets");
      } catch (error) {
        if (!(error instanceof UnauthorizedError)) throw error;
        await transport.finishAuth(provider.authorizationCode());
        return await call("rotate_secrets");
      }
    };
    let withRefreshToken = "stepped up";
    let rotated;
    try {
      rotated = await stepUp();
    } catch (error) {
      withRefreshToken = String(error?.message ?? error);
      provider.keepRefreshTokens = false;
      await call("whoami"); // a success resets the transport's guard against repeated step-ups
      rotated = await stepUp();
    }
    const toolsAfter = (await client.listTools(undefined, options)).tools.map((t) => t.name).sort();
    const whoamiAfter = await call("whoami");
    return {
      client: "ts",
      first_attempt: firstAttempt,
      server_name: client.getServerVersion()?.name ?? null,
      tools,
      whoami: jsonText(whoami),
      client_id: provider.stored.client?.client_id ?? null,
      auth_method: provider.stored.client?.token_endpoint_auth_method ?? null,
      has_secret: Boolean(provider.stored.client?.client_secret),
      token_type: tokens?.token_type ?? null,
      refresh_token: refreshToken,
      authorization_urls: provider.authorizationUrls,
      iss: provider.answer?.get("iss") ?? null,
      step_up_with_refresh_token: withRefreshToken,
      step_up: { result: firstText(rotated), tools: toolsAfter, whoami: jsonText(whoamiAfter) },
    };
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
}

await runPeerClient("ts_auth_client.mjs", summarize, OVERALL_TIMEOUT_MS);
