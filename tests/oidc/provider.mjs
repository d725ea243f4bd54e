// A real OpenID provider for the single sign-on tests: npm's oidc-provider (a certified
// implementation) on loopback, with its own sign-in pages (any password; the login names the
// person). Started by tests/api/accounts_oidc.rs; `.ci/run` installs the package.
//
// Environment:
//   OIDC_PROVIDER_MODULE  path of oidc-provider's lib/index.js
//   OIDC_PORT             the loopback port to listen on
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI   the one client, Portolan
//   OIDC_GROUPS           JSON: {"login": ["group", ...]} (the `groups` claim of each person)
// Prints "listening <issuer>" once it answers.

import { pathToFileURL } from 'node:url';

const { default: Provider } = await import(pathToFileURL(process.env.OIDC_PROVIDER_MODULE).href);

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const groups = JSON.parse(process.env.OIDC_GROUPS || '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  // As most providers do by default: scope claims come from the user info endpoint, not the
  // ID token, so Portolan's reading of user info is what finds the groups.
  conformIdTokenClaims: true,
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: `${id[0].toUpperCase()}${id.slice(1)} Example`,
          preferred_username: id,
          email: `${id}@example.test`,
          groups: groups[id] ?? [],
        };
      },
    };
  },
});
// Plain HTTP on loopback is what this test has; the library warns about it, once.
provider.proxy = false;

provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
