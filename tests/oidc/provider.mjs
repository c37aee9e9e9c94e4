// A real OpenID Connect provider for syncd's sign-in tests: panva's certified
// oidc-provider on 127.0.0.1, with one confidential client and the accounts of its
// settings, whose login form (user name and password) a test fills in.
//
// node provider.mjs SETTINGS.json, the settings being {"port": 8123, "client_id": "...",
// "client_secret": "...", "redirect_uri": "...", "accounts": {"alice": {"password": "...",
// "roles": ["syncd-admin"]}, ...}}. The `roles` claim comes with the `roles` scope;
// claims reach the client by userinfo (the provider's default), not in the ID token.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { port, accounts } = settings;
const issuer = `http://127.0.0.1:${port}`;
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const provider = new Provider(issuer, {
  clients: [{
    client_id: settings.client_id,
    client_secret: settings.client_secret,
    redirect_uris: [settings.redirect_uri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [{ ...signingKey.export({ format: 'jwk' }), kid: 'test', use: 'sig' }] },
  cookies: { keys: ['syncd-test-provider-cookie-key'] },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'], roles: ['roles'] },
  scopes: ['openid', 'profile', 'roles'],
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // a first-party client: the user signs in, and is never asked to consent
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile roles');
    await grant.save();
    return grant;
  },
  findAccount: async (ctx, id) => (accounts[id] ? {
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: id, name: id, roles: accounts[id].roles }),
  } : undefined),
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const loginForm = (uid, message) => `<!doctype html>
<title>Sign in</title>
<p>${escape(message)}</p>
<form method="post" action="/interaction/${escape(uid)}/login">
  <input name="login" autocomplete="username">
  <input name="password" type="password" autocomplete="current-password">
  <button type="submit">Sign in</button>
</form>`;

const readForm = async (req) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
};

// the login step: GET shows the form, POST checks the password and finishes the step
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = loginForm(details.uid, 'Sign in');
    return undefined;
  }
  const form = await readForm(ctx.req);
  const account = accounts[form.get('login')];
  if (!account || account.password !== form.get('password')) {
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = loginForm(details.uid, 'Wrong user name or password');
    return undefined;
  }
  const result = { login: { accountId: form.get('login') } };
  const to = await provider.interactionResult(ctx.req, ctx.res, result,
    { mergeWithLastSubmission: false });
  ctx.redirect(to);
  ctx.status = 303;
  return undefined;
});

provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
