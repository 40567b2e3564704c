// A real OpenID provider for mcpkit's token verification tests: npm `oidc-provider` (panva's
// certified implementation) on 127.0.0.1, port 0, issuer `http://127.0.0.1:PORT`. Prints
// {"issuer": ..., "kids": [...]} on its first line of stdout once it listens.
//
// Clients (client_credentials only, client_secret_basic):
//   `mcp-service` / `mcp-service-secret`, scopes `mcp admin`, tokens for 300 s;
//   `short-lived` / `short-lived-secret`, scope `mcp`, tokens for 5 s.
// Resource indicators (RFC 8707) are on: a token asked for with `resource=<an absolute URL>`
// is an RFC 9068 JWT (`at+jwt`) with that URL as `aud`, signed ES256 with the current key,
// and carrying the extra claim `tenant: "interop"`.
//
// Key rotation: the keys are the provider's configuration (oidc-provider reads `jwks` when it
// is made), so a rotation is what a deployment does, a new Provider with the new key set
// behind the same issuer and port. Commands, one per line on stdin, each answered with
// {"kids": [...]} (the published kids, the signing one first) on stdout:
//   `rotate`: a new signing key; the old ones stay published, for tokens already issued;
//   `retire`: only the signing key stays published.
//   `client {"redirect_uris": [...], ...}`: register a confidential client for the
//   authorization code flow (an authorization front's pre-registered client): the JSON
//   is merged over `front` / `front-secret`, grants authorization_code and refresh_token,
//   client_secret_basic; answered {"client_id": ...}.
// Users sign in through oidc-provider's own login and consent pages (its devInteractions:
// any login name with any password; the login name is the subject), which a test drives
// with plain form posts. `offline_access` (asked for with `prompt=consent`) brings a refresh
// token; revocation (RFC 7009) ends the whole grant of a refresh token.
// The peer exits when stdin closes, so it never outlives the test that started it.

import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import Provider from "oidc-provider";

// oidc-provider's notices go to stdout, which carries this peer's answers: send them to stderr.
console.info = (...args) => console.error(...args);

const TTL = { "mcp-service": 300, "short-lived": 5 };
const CLIENTS = [
  { client_id: "mcp-service", client_secret: "mcp-service-secret", scope: "mcp admin" },
  { client_id: "short-lived", client_secret: "short-lived-secret", scope: "mcp" },
].map((client) => ({
  ...client,
  grant_types: ["client_credentials"],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: "client_secret_basic",
}));

const CODE_CLIENT = {
  client_id: "front",
  client_secret: "front-secret",
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic",
};

function newKey() {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "ES256", use: "sig" };
}

function makeProvider(issuer, keys) {
  const signing = keys[0].kid;
  return new Provider(issuer, {
    clients: CLIENTS,
    jwks: { keys },
    scopes: ["openid", "offline_access", "mcp", "admin"],
    clientDefaults: { id_token_signed_response_alg: "ES256" },
    cookies: { keys: [randomUUID()] },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({
          audience: resource,
          scope: "mcp admin",
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "ES256", kid: signing } },
        }),
      },
    },
    extraTokenClaims: () => ({ tenant: "interop" }),
    ttl: { ClientCredentials: (_ctx, _token, client) => TTL[client.clientId] },
  });
}

let keys = [newKey()];
let handle; // the current provider's request handler
const kids = () => keys.map((key) => key.kid);
const http = createServer((req, res) => handle(req, res));
http.listen(0, "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${http.address().port}`;
  handle = makeProvider(issuer, keys).callback();
  process.stdout.write(`${JSON.stringify({ issuer, kids: kids() })}\n`);
  const commands = createInterface({ input: process.stdin });
  commands.on("line", (line) => {
    if (line.startsWith("client ")) {
      const client = { ...CODE_CLIENT, ...JSON.parse(line.slice(7)) };
      CLIENTS.push(client);
      handle = makeProvider(issuer, keys).callback();
      process.stdout.write(`${JSON.stringify({ client_id: client.client_id })}\n`);
      return;
    }
    if (line === "rotate") keys = [newKey(), ...keys];
    else if (line === "retire") keys = keys.slice(0, 1);
    else {
      process.stderr.write(`unknown command: ${line}\n`);
      process.exit(2);
    }
    handle = makeProvider(issuer, keys).callback();
    process.stdout.write(`${JSON.stringify({ kids: kids() })}\n`);
  });
  commands.on("close", () => process.exit(0));
});
