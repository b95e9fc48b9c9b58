// A stand-in for a person's browser at the consent step of peers/auth/oidc.mjs:
//
//     node browser.mjs AUTHORIZATION_URL [--deny] [--print-redirect]
//
// GETs the authorization URL and follows redirects by hand, keeping cookies per origin (and
// path). On the server's consent page (/interaction/<uid>) it submits the confirm form, or the
// deny form with --deny, and follows on. The first redirect to a loopback URL of another origin
// than the authorization server's is the client's redirect URI: by default it GETs it, as a
// browser would (delivering code, state and iss to the client's loopback listener) and prints
// the listener's status on stderr; with --print-redirect it prints that URL on stdout instead
// and exits 0 without fetching it.
//
// Exit 0 when the redirect was delivered (whatever the listener answered) or printed; non-zero,
// with the reason on stderr, for anything else. At most 20 redirects; every fetch times out
// after 10 s. Never leaves loopback. Plain fetch, no dependencies (Node 20 or later).

const MAX_REDIRECTS = 20;
const TIMEOUT_MS = 10_000;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function fail(message) {
  console.error(`browser: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { url: undefined, deny: false, printRedirect: false };
  for (const arg of argv) {
    if (arg === "--deny") args.deny = true;
    else if (arg === "--print-redirect") args.printRedirect = true;
    else if (arg.startsWith("--")) fail(`unknown flag ${arg}`);
    else if (args.url === undefined) args.url = arg;
    else fail(`unexpected argument ${arg}`);
  }
  if (args.url === undefined) fail("usage: browser.mjs URL [--deny] [--print-redirect]");
  return args;
}

/** Cookies by origin, each by name and path (RFC 6265, in the little that is needed here). */
class Jar {
  #byOrigin = new Map();

  store(url, setCookies) {
    let cookies = this.#byOrigin.get(url.origin);
    if (!cookies) this.#byOrigin.set(url.origin, (cookies = new Map()));
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cookiePath = url.pathname.slice(0, url.pathname.lastIndexOf("/")) || "/";
      let expired = false;
      for (const attribute of attributes) {
        const [key, ...rest] = attribute.split("=");
        const val = rest.join("=");
        const lower = key.toLowerCase();
        if (lower === "path" && val.startsWith("/")) cookiePath = val;
        else if (lower === "max-age" && Number(val) <= 0) expired = true;
        else if (lower === "expires" && Date.parse(val) <= Date.now()) expired = true;
      }
      const key = `${name}\u0000${cookiePath}`;
      if (expired) cookies.delete(key);
      else cookies.set(key, { name, value, path: cookiePath });
    }
  }

  header(url) {
    const cookies = this.#byOrigin.get(url.origin);
    if (!cookies) return undefined;
    const matching = [...cookies.values()].filter(
      ({ path }) =>
        url.pathname === path ||
        (url.pathname.startsWith(path) && (path.endsWith("/") || url.pathname[path.length] === "/")),
    );
    // Longer paths first, as browsers send them.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map(({ name, value }) => `${name}=${value}`).join("; ") : undefined;
  }
}

function assertLoopback(url) {
  if (url.protocol !== "http:" || !LOOPBACK_HOSTS.has(url.hostname)) {
    fail(`refusing to leave loopback: ${url.href}`);
  }
}

async function request(jar, url, { method = "GET", body } = {}) {
  assertLoopback(url);
  const headers = { accept: "text/html,application/json;q=0.9,*/*;q=0.8" };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
  let response;
  try {
    response = await fetch(url, { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    fail(`${method} ${url.href}: ${error?.cause?.message ?? error?.message ?? error}`);
  }
  jar.store(url, response.headers.getSetCookie());
  return response;
}

/** The action and hidden fields of the form with this id on the page. */
function form(page, id, base) {
  const forms = page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi);
  for (const [, attributes, inner] of forms) {
    const attr = (name) => new RegExp(`\\b${name}="([^"]*)"`, "i").exec(attributes)?.[1];
    if (attr("id") !== id) continue;
    const action = attr("action");
    if (!action) fail(`form ${id} has no action`);
    const fields = new URLSearchParams();
    for (const [, input] of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const name = /\bname="([^"]*)"/i.exec(input)?.[1];
      const value = /\bvalue="([^"]*)"/i.exec(input)?.[1] ?? "";
      if (name) fields.append(name, decodeEntities(value));
    }
    return { action: new URL(decodeEntities(action), base), fields: fields.toString() };
  }
  fail(`the consent page at ${base.href} has no form with id "${id}"`);
}

function decodeEntities(s) {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let url;
  try {
    url = new URL(args.url);
  } catch {
    fail(`not a URL: ${args.url}`);
  }
  const server = url.origin;
  const jar = new Jar();
  let next = { url, method: "GET", body: undefined };
  for (let hops = 0; hops <= MAX_REDIRECTS; ) {
    const response = await request(jar, next.url, next);
    const status = response.status;
    if (status >= 300 && status < 400) {
      await response.arrayBuffer();
      const location = response.headers.get("location");
      if (!location) fail(`${status} from ${next.url.href} without a Location`);
      const target = new URL(location, next.url);
      hops += 1;
      if (target.origin !== server) {
        assertLoopback(target);
        if (args.printRedirect) {
          process.stdout.write(`${target.href}\n`);
          return;
        }
        const delivered = await request(jar, target);
        const text = await delivered.text().catch(() => "");
        console.error(`browser: ${target.origin}${target.pathname} answered ${delivered.status} ${text.replace(/\s+/g, " ").trim().slice(0, 200)}`);
        return;
      }
      next = { url: target, method: "GET", body: undefined };
      continue;
    }
    const page = await response.text();
    if (status === 200 && /^\/interaction\/[^/]+$/.test(next.url.pathname)) {
      const chosen = form(page, args.deny ? "deny" : "confirm", next.url);
      next = { url: chosen.action, method: "POST", body: chosen.fields };
      continue;
    }
    fail(`${next.method} ${next.url.href} answered ${status}: ${page.slice(0, 500).trim()}`);
  }
  fail(`more than ${MAX_REDIRECTS} redirects`);
}

await main();
