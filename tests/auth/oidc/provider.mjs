// A real OpenID provider for the tests: panva's oidc-provider (OpenID Certified) on a loopback port.
// Usage: node provider.mjs <port>. The issuer is http://127.0.0.1:<port>; one confidential client,
// "samverkan", with PKCE required and redirect URIs on any loopback port (a native client, RFC 8252).
// No login form: the interaction signs in the account named by login_hint (default "anna") and grants
// what was asked, so a test drives the authorization code flow without typing.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;

const ACCOUNTS = {
  anna: { email: 'anna@alingsas.example', name: 'Anna Andersson', roles: ['handlaggare'] },
  bert: { email: 'bert@alingsas.example', name: 'Bert Berg', roles: [] },
  nils: { email: 'nils@alingsas.example', name: 'Nils Ny', roles: ['handlaggare', 'okand-roll'] },
};

const configuration = {
  clients: [{
    client_id: 'samverkan',
    client_secret: 'samverkan-test-client-secret-0123456789',
    application_type: 'native',
    // 127.0.0.1: any port (the browser tests' live server); localhost: Flask's test client.
    redirect_uris: ['http://127.0.0.1/logga-in/sso/test/callback', 'http://localhost/logga-in/sso/test/callback',
                    'http://localhost/logga-in/sso/jit/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1/logga-in', 'http://localhost/logga-in'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name,
                 preferred_username: id, roles: account.roles };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], roles: ['roles'] },
  scopes: ['openid', 'email', 'profile', 'roles'],
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // The provider's own confirmation page, submitted at once (a test page, not Samverkan's).
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html><body>${form}<script>document.forms[0].submit()</script></body></html>`;
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['oidc-test-cookie-key-0123456789abcdef'] },
};

const provider = new Provider(issuer, configuration);

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (!match || ctx.method !== 'GET') return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.prompt.name === 'login') {
    const accountId = details.params.login_hint || 'anna';
    return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }
  const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  return provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
});

process.on('SIGTERM', () => process.exit(0));
provider.listen(port, '127.0.0.1', () => { console.log(`ready ${issuer}`); });
