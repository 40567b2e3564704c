// The TypeScript SDK's OAuth client, driven line by line by a test, against an MCP server
// behind an authorization front (test_front_sdk_clients.py).
//
// Usage: node ts_front_client.mjs SDK ERA URL REDIRECT_URI
//
// SDK is `v1` (@modelcontextprotocol/sdk) or `v2` (@modelcontextprotocol/client); ERA is
// `2025-11-25` (the initialize handshake) or, with v2, `2026-07-28` (pinned). The client
// registers dynamically (public client, PKCE) and keeps its registration and tokens in memory.
//
// Each stdin line `call` calls tool `whoami` and prints {"whoami": ..., "events": [...],
// "access_token": ..., "protocol_version": ...}; `quit` (or the end of stdin) ends it. When
// the SDK sends the user to authorize, the peer prints {"authorize": URL} and reads the URL
// the browser was finally redirected to (the test's form-filling browser signs in) from stdin,
// checks its `state`, and hands the code to the transport (`finishAuth`), as an application's
// redirect handler would. `events` lists what the SDK asked of the provider: `authorize`
// (a sign-in) and `tokens` (tokens saved: a sign-in's or a refresh's). Errors go to stderr
// with exit 1.

import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";

const REQUEST_TIMEOUT_MS = 10_000;
const [sdk, era, url, redirectUri] = process.argv.slice(2);

const modules =
  sdk === "v2"
    ? await import("@modelcontextprotocol/client")
    : {
        ...(await import("@modelcontextprotocol/sdk/client/auth.js")),
        ...(await import("@modelcontextprotocol/sdk/client/index.js")),
        ...(await import("@modelcontextprotocol/sdk/client/streamableHttp.js")),
      };
const { Client, StreamableHTTPClientTransport, UnauthorizedError } = modules;

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function nextLine() {
  const { value, done } = await lines.next();
  if (done) throw new Error("stdin ended while the peer waited for the test");
  return value;
}
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

class MemoryProvider {
  constructor() {
    this.stored = { client: undefined, tokens: undefined, verifier: undefined, discovery: undefined };
    this.sentState = undefined;
    this.answer = undefined; // the redirect's query
    this.events = [];
  }
  get redirectUrl() {
    return redirectUri;
  }
  get clientMetadata() {
    return {
      client_name: `ts-${sdk}-front`,
      redirect_uris: [redirectUri],
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
    this.events.push("tokens");
    this.stored.tokens = tokens;
  }
  saveCodeVerifier(verifier) {
    this.stored.verifier = verifier;
  }
  codeVerifier() {
    if (this.stored.verifier === undefined) throw new Error("no PKCE code verifier was saved");
    return this.stored.verifier;
  }
  // What the SDK says no longer holds (a refused refresh token: `tokens`) is forgotten.
  invalidateCredentials(scope) {
    const names = { all: Object.keys(this.stored), client: ["client"], tokens: ["tokens"] };
    for (const name of names[scope] ?? [scope]) this.stored[name] = undefined;
  }
  saveDiscoveryState(state) {
    this.stored.discovery = state;
  }
  discoveryState() {
    return this.stored.discovery;
  }
  // The test's browser signs in; the peer gets the URL it was redirected to.
  async redirectToAuthorization(authorizationUrl) {
    this.events.push("authorize");
    say({ authorize: authorizationUrl.href });
    const answer = new URL(await nextLine()).searchParams;
    if (answer.get("error")) throw new Error(`authorization refused: ${answer.get("error")}`);
    if (answer.get("state") !== this.sentState) throw new Error("the redirect's state is not ours");
    this.answer = answer;
  }
}

const provider = new MemoryProvider();
const negotiation = era === "2026-07-28" ? { mode: { pin: era } } : { mode: "legacy" };
let client;
let transport;

// After UnauthorizedError: the code the browser brought back, redeemed by `pending`.
async function finish(pending) {
  const { answer } = provider;
  if (answer === undefined) throw new Error("unauthorized, yet the SDK never asked to authorize");
  provider.answer = undefined;
  await pending.finishAuth(answer.get("code"), answer.get("iss") ?? undefined);
}

async function connect() {
  for (let attempt = 0; ; attempt += 1) {
    transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    const options = sdk === "v2" ? { versionNegotiation: negotiation } : {};
    client = new Client({ name: `ts-${sdk}-front`, version: "1.0.0" }, { capabilities: {}, ...options });
    try {
      await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
      return;
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || attempt > 0) throw error;
      await finish(transport);
    }
  }
}

async function whoami() {
  const call = () => client.callTool({ name: "whoami", arguments: {} }, undefined, { timeout: REQUEST_TIMEOUT_MS });
  let result;
  try {
    result = await call();
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    await finish(transport); // signed in again: the call once more
    result = await call();
  }
  return JSON.parse(result.content.find((block) => block.type === "text").text);
}

try {
  for (;;) {
    const { value: command, done } = await lines.next();
    if (done || command === "quit") break;
    if (command !== "call") throw new Error(`unknown command ${command}`);
    if (client === undefined) await connect();
    const found = await whoami();
    say({
      whoami: found,
      events: provider.events,
      access_token: provider.stored.tokens?.access_token ?? null,
      protocol_version:
        (client.getNegotiatedProtocolVersion?.() ?? transport.protocolVersion) || null,
    });
  }
  await client?.close();
  process.exit(0);
} catch (error) {
  console.error(`ts_front_client.mjs: ${error?.stack ?? error}`);
  process.exit(1);
}
