// A real OAuth 2.0 / OpenID Connect authorization server for Strongroom's tests: oidc-provider
// with short token lifetimes, rotating refresh tokens whose reuse revokes the grant, JWT access
// tokens signed by keys that can be rotated at runtime, and a loopback-only test admin API
// (/__test/...) with counters, key rotation and injected token-endpoint faults.
//
// Usage: node server.mjs [--port N] [--config JSON]   (or PORT / OAUTH_SERVER_CONFIG in the env)
// Prints exactly one JSON line on stdout when listening: {"ready": true, "issuer": ..., ...}.
// Everything else (oidc-provider's warnings, errors) goes to stderr.
// Test-only: never ship it, never bind it anywhere but loopback.

import { randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const { values: args } = parseArgs({
  options: { port: { type: 'string' }, config: { type: 'string' } },
});
const settings = JSON.parse(args.config ?? process.env.OAUTH_SERVER_CONFIG ?? '{}');
const port = Number(args.port ?? process.env.PORT ?? settings.port ?? 0);
const host = '127.0.0.1';

const accessTokenTTL = settings.access_token_ttl ?? 5;
const refreshTokenTTL = settings.refresh_token_ttl ?? 3600;
const idTokenTTL = settings.id_token_ttl ?? 3600;
const resource = settings.resource ?? 'https://api.strongroom.test';
const audience = settings.audience ?? 'strongroom-test-api';
const resourceScopes = settings.resource_scopes ?? ['api:read', 'api:write'];
const accounts = settings.accounts ?? {};
const defaultGroups = settings.default_groups ?? ['users'];
const secret = () => randomBytes(24).toString('base64url');

const web = {
  client_id: settings.web_client_id ?? 'strongroom-web',
  client_secret: settings.web_client_secret ?? secret(),
  // "native" lets any loopback port match a registered loopback redirect URI (RFC 8252 7.3),
  // so a test can listen on a free port; the client is still confidential.
  application_type: 'native',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [
    'http://127.0.0.1/callback',
    'http://localhost/callback',
    ...(settings.redirect_uris ?? []),
  ],
  token_endpoint_auth_method: settings.web_client_auth_method ?? 'client_secret_basic',
};
const service = {
  client_id: settings.service_client_id ?? 'strongroom-service',
  client_secret: settings.service_client_secret ?? secret(),
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: settings.service_client_auth_method ?? 'client_secret_basic',
};
const clients = [web, service, ...(settings.extra_clients ?? [])];

// ---- counters, read and reset through /__test/counters ----------------------------------------
function freshCounters() {
  return {
    token_requests_total: 0,
    token_requests: {}, // by grant_type
    token_errors: {}, // by OAuth error code
    invalid_grant: 0,
    refresh_token_reuse: 0, // an already-consumed refresh token was presented (grant revoked)
    refresh_tokens_rotated: 0,
    grants_revoked: 0,
    tokens_issued: {}, // by grant_type, successful token responses
    faults_injected: 0,
    authorization_requests: 0,
    jwks_requests: 0,
    key_rotations: 0,
  };
}
let counters = freshCounters();
const bump = (table, key) => {
  table[key] = (table[key] ?? 0) + 1;
};

// ---- faults and quirks --------------------------------------------------------------------------
// quirks (settings.quirks, or POST /__test/quirks replacing them), like providers that answer
// their own way:
//   invalid_grant_status: 401          invalid_grant with this HTTP status instead of 400
//   omit_refresh_token_on_refresh: true no refresh_token in refresh answers (keep the old one)
//   omit_expires_in: true              no expires_in at all
//   expires_at: true                   absolute expires_at (unix seconds) instead of expires_in
//   nest_under: "authed_user"          tokens nested in that object, beside "ok": true (Slack)
//   form_encoded: true                 application/x-www-form-urlencoded answers (GitHub)
// faults (POST /__test/faults): {"status": 503, "count": 2} answers the next N token requests
// with that status before the provider sees them.
let quirks = { ...(settings.quirks ?? {}) };
let fault = { status: 0, count: 0 };

// ---- signing keys --------------------------------------------------------------------------------
async function newKey(alg) {
  // WebCrypto, not KeyObject.export({ format: 'jwk' }): on Node 20 that export deadlocks now and
  // then (about 1 start in 25 here) when stdin is a pipe, as it is under the test helper.
  const algorithm = alg === 'ES256'
    ? { name: 'ECDSA', namedCurve: 'P-256' }
    : { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const { privateKey } = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const { key_ops: _ops, ext: _ext, ...jwk } = await webcrypto.subtle.exportKey('jwk', privateKey);
  return { ...jwk, kid: `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`, alg, use: 'sig' };
}
// The first key of an algorithm signs; later ones stay published so earlier tokens still verify.
let keys = await Promise.all([newKey('RS256'), newKey('ES256')]);
const cookieKeys = [secret()];

function findAccount(_ctx, sub) {
  const profile = accounts[sub] ?? {};
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: profile.name ?? sub,
        email: profile.email ?? `${sub}@example.test`,
        email_verified: true,
        groups: profile.groups ?? defaultGroups,
      };
    },
  };
}

function configuration() {
  return {
    clients,
    jwks: { keys },
    cookies: { keys: cookieKeys },
    findAccount,
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // ID tokens carry the requested claims (groups) even on the code flow.
    conformIdTokenClaims: false,
    rotateRefreshToken: settings.rotate_refresh_token ?? true,
    pkce: { required: () => true },
    ttl: {
      AccessToken: accessTokenTTL,
      ClientCredentials: accessTokenTTL,
      IdToken: idTokenTTL,
      RefreshToken: refreshTokenTTL,
      Grant: refreshTokenTTL,
      Session: refreshTokenTTL,
      Interaction: 600,
      AuthorizationCode: 60,
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Every token is for our one API, so access tokens are JWTs a resource server verifies.
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return {
            scope: resourceScopes.join(' '),
            audience,
            accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: settings.access_token_alg ?? 'RS256' } },
          };
        },
      },
    },
    async extraTokenClaims(_ctx, token) {
      if (!token.accountId) return undefined;
      const profile = accounts[token.accountId] ?? {};
      return { groups: profile.groups ?? defaultGroups };
    },
  };
}

function applyQuirks(ctx, grantType) {
  let body = { ...ctx.body };
  if (quirks.omit_refresh_token_on_refresh && grantType === 'refresh_token') delete body.refresh_token;
  if (quirks.expires_at && body.expires_in !== undefined) {
    body.expires_at = Math.floor(Date.now() / 1000) + body.expires_in;
  }
  if (quirks.omit_expires_in || quirks.expires_at) delete body.expires_in;
  if (quirks.nest_under) body = { ok: true, [quirks.nest_under]: body };
  if (quirks.form_encoded) {
    const flat = Object.entries(body).filter(([, value]) => typeof value !== 'object');
    ctx.body = new URLSearchParams(flat.map(([key, value]) => [key, String(value)])).toString();
    ctx.type = 'application/x-www-form-urlencoded';
  } else {
    ctx.body = body;
  }
}

function countingMiddleware() {
  return async (ctx, next) => {
    const isToken = ctx.method === 'POST' && ctx.path === '/token';
    if (ctx.path === '/jwks') counters.jwks_requests += 1;
    if (ctx.path === '/auth') counters.authorization_requests += 1;
    if (!isToken) return next();
    counters.token_requests_total += 1;
    if (fault.count > 0) {
      fault.count -= 1;
      counters.faults_injected += 1;
      ctx.status = fault.status;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'fault injected by the test' };
      return undefined;
    }
    await next();
    const grantType = ctx.oidc?.params?.grant_type ?? 'unknown';
    bump(counters.token_requests, grantType);
    const error = ctx.body?.error;
    if (error) {
      bump(counters.token_errors, error);
      if (error === 'invalid_grant') {
        counters.invalid_grant += 1;
        if (quirks.invalid_grant_status) ctx.status = quirks.invalid_grant_status;
      }
    } else if (ctx.status === 200) {
      bump(counters.tokens_issued, grantType);
      applyQuirks(ctx, grantType);
    }
    return undefined;
  };
}

function buildProvider() {
  const provider = new Provider(issuer, configuration());
  provider.use(countingMiddleware());
  provider.on('grant.error', (_ctx, err) => {
    if (err.error_detail === 'refresh token already used') counters.refresh_token_reuse += 1;
  });
  provider.on('grant.revoked', () => {
    counters.grants_revoked += 1;
  });
  provider.on('refresh_token.consumed', () => {
    counters.refresh_tokens_rotated += 1;
  });
  provider.on('server_error', (_ctx, err) => {
    process.stderr.write(`oauth-server: server_error: ${err.stack ?? err}\n`);
  });
  return provider;
}

// ---- test admin API ----------------------------------------------------------------------------
function publicKeys() {
  return keys.map(({ kid, alg }) => ({ kid, alg }));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

async function admin(req, res) {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const address = req.socket.remoteAddress ?? '';
  if (!(address.startsWith('127.') || address === '::1' || address === '::ffff:127.0.0.1')) {
    return reply(403, { error: 'the test admin API answers loopback callers only' });
  }
  const route = `${req.method} ${new URL(req.url, issuer).pathname}`;
  const body = req.method === 'POST' ? await readJson(req) : {};
  switch (route) {
    case 'GET /__test/counters':
      return reply(200, counters);
    case 'POST /__test/counters/reset':
      counters = freshCounters();
      return reply(200, counters);
    case 'GET /__test/keys':
      return reply(200, { keys: publicKeys() });
    case 'POST /__test/rotate-keys': {
      // New keys sign from now on; {"keep_old": false} also withdraws the old ones from the JWKS.
      const fresh = await Promise.all((body.algs ?? ['RS256', 'ES256']).map(newKey));
      keys = body.keep_old === false ? fresh : [...fresh, ...keys];
      install(buildProvider());
      counters.key_rotations += 1;
      return reply(200, { keys: publicKeys() });
    }
    case 'POST /__test/faults':
      fault = { status: Number(body.status ?? 503), count: Number(body.count ?? 1) };
      return reply(200, fault);
    case 'POST /__test/quirks':
      quirks = { ...body };
      return reply(200, quirks);
    default:
      return reply(404, { error: `no test admin route ${route}` });
  }
}

// ---- listen --------------------------------------------------------------------------------------
const scheme = settings.tls ? 'https' : 'http';
let issuer = `${scheme}://${host}:${port}`; // port 0: fixed once listening, before any request
let current; // the Provider; replaced when keys rotate (the memory adapter's storage is shared)
let currentHandler;

function install(provider) {
  current = provider;
  currentHandler = provider.callback();
}

const handle = (req, res) => {
  if (req.url.startsWith('/__test/')) {
    admin(req, res).catch((err) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `bad admin request: ${err.message}` }));
    });
    return;
  }
  currentHandler(req, res);
};

const server = settings.tls
  ? https.createServer({ cert: readFileSync(settings.tls.cert), key: readFileSync(settings.tls.key) }, handle)
  : http.createServer(handle);

server.listen(port, host, () => {
  issuer = `${scheme}://${host}:${server.address().port}`;
  install(buildProvider());
  process.stdout.write(`${JSON.stringify({
    ready: true,
    issuer,
    port: server.address().port,
    admin_url: `${issuer}/__test`,
    resource,
    audience,
    clients: {
      web: { client_id: web.client_id, client_secret: web.client_secret },
      service: { client_id: service.client_id, client_secret: service.client_secret },
    },
    keys: publicKeys(),
  })}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (settings.exit_when_stdin_closes) {
  // The parent (a test) closing our stdin means it is gone: do not outlive it.
  process.stdin.on('end', stop);
  process.stdin.resume();
}
