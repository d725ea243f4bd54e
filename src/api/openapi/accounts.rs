//! The OpenAPI description of people's accounts: setup, sign-in, sessions, users, invites.

use serde_json::{json, Value};

use super::{body, ok, operation, param_ref, Doc, READ_ERRORS, WRITE_ERRORS};
use crate::api::accounts::{
    AcceptBody, PasswordBody, PasswordLinkBody, SetupBody, SignInBody, TotpCodeBody,
    TotpDisableBody,
};
use crate::api::shares::ShareBody;
use crate::api::users::{CreatedUser, InviteBody, UserBody};
use crate::db::sessions::{AuthEvent, Session};
use crate::db::shares::Share;
use crate::db::users::User;

const TAG: &str = "Accounts";

fn code_param() -> Value {
    json!({"name": "code", "in": "path", "required": true, "description": "The one-time code of the link.",
           "schema": {"type": "string", "minLength": 1, "maxLength": 200}})
}

/// An operation anyone may call (no key, no session).
fn open(mut op: Value) -> Value {
    op["security"] = json!([]);
    op
}

impl Doc {
    pub(super) fn accounts(&mut self) {
        let user = self.add_schema::<User>();
        let user_input = self.add_schema::<UserBody>();
        let created_user = self.add_schema::<CreatedUser>();
        let session = self.add_schema::<Session>();
        let event = self.add_schema::<AuthEvent>();
        let setup_body = self.add_schema::<SetupBody>();
        let sign_in_body = self.add_schema::<SignInBody>();
        let password_body = self.add_schema::<PasswordBody>();
        let accept_body = self.add_schema::<AcceptBody>();
        let link_body = self.add_schema::<PasswordLinkBody>();
        let invite_body = self.add_schema::<InviteBody>();
        self.schemas.insert("SignedIn".into(), json!({"type": "object", "required": ["user", "csrf_token"],
            "properties": {"user": {"$ref": format!("#/components/schemas/{user}")}, "csrf_token": {"type": "string"},
                           "expires_at": {"type": "string", "format": "date-time"}, "auth": {"type": "string"}}}));
        self.schemas.insert("OneTimeLink".into(), json!({"type": "object", "required": ["code", "link", "expires_at"],
            "properties": {"code": {"type": "string"}, "link": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}}));
        self.schemas
            .insert("Done".into(), json!({"type": "object"}));
        let signed_in = self.envelope("SignedIn");
        self.schemas.insert(
            "MaybeSignedIn".into(),
            json!({"oneOf": [{"$ref": "#/components/schemas/SignedIn"}, {"type": "null"}]}),
        );
        let maybe_signed_in = self.envelope("MaybeSignedIn");
        let link = self.envelope("OneTimeLink");
        let done = self.envelope("Done");
        let user_one = self.envelope(&user);
        let users = self.page(&user);
        let created = self.envelope(&created_user);
        let sessions = self.envelope(&format!("{session}List"));
        self.schemas.insert(
            format!("{session}List"),
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{session}")}}),
        );
        let events = self.page(&event);
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        let cookie = "Sets the session cookie `portolan_session` (HttpOnly, SameSite=Strict, Secure over HTTPS); \
                      a write with it sends `X-Portolan-CSRF` with `csrf_token` (else 403 `FORBIDDEN_CSRF`).";
        let mine = "Needs: a person's session (an API key is 401).";
        let admin = "Needs: Admin; an Owner to make or change Owners; nobody gives more than they have (403 `FORBIDDEN_ROLE`).";

        self.add("/api/v1/auth/setup", "post", open(operation(TAG, "create_setup", "Make the first Owner",
            &format!("No key. With no user yet, the code of the first start's log (or `<data dir>/setup-code`) makes the Owner, once, and signs them in. {cookie} 404 for an unknown, used or expired code; 409 once set up."),
            vec![], Some(body(&setup_body)), ok("201", "The Owner, signed in", &signed_in), &["400", "404", "409", "429"])));
        self.add("/api/v1/auth/sign-in", "post", open(operation(TAG, "sign_in", "Sign in",
            &format!("No key. A wrong username or password is one answer, 401 \"Wrong username or password.\", in the same time. 5 failures for a username or 20 from an address in 15 minutes: 429 until the window passes. {cookie}"),
            vec![], Some(body(&sign_in_body)), ok("200", "Signed in", &signed_in), &["400", "401", "429"])));
        self.schemas.insert("SignInMethods".into(), json!({"type": "object", "required": ["password", "oidc"],
            "properties": {"password": {"type": "boolean", "description": "Whether the password form is offered (PORTOLAN_PASSWORD_SIGN_IN)."},
                           "oidc": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["name", "start"],
                                    "properties": {"name": {"type": "string"}, "start": {"type": "string"}}}]}}}));
        let methods = self.envelope("SignInMethods");
        self.add("/api/v1/auth/methods", "get", open(operation(TAG, "get_sign_in_methods", "What the sign-in page offers",
            "No key. Whether password sign-in is on, and single sign-on's button label and start address when OpenID Connect is set up.",
            vec![], None, ok("200", "The sign-in methods", &methods), &["429"])));
        let return_to = json!({"name": "return_to", "in": "query", "required": false,
            "description": "The web UI's route to return to after sign-in (a path such as `/hosts`; anything else is `/home`).",
            "schema": {"type": "string", "maxLength": 500}});
        let mut start = open(operation(TAG, "start_oidc_sign_in", "Sign in with OpenID Connect",
            "No key. Sends the browser to the provider (303) with a new `state`, `nonce` and PKCE challenge, and sets the cookie `portolan_oidc` (HttpOnly, SameSite=Lax, ten minutes) that ties the sign-in to this browser. 404 when single sign-on is not set up; 503 when the provider cannot be reached.",
            vec![return_to], None, Value::Null, &["404", "429", "503"]));
        start["responses"]["303"] = json!({"description": "To the provider's sign-in"});
        self.add("/api/v1/auth/oidc/start", "get", start);
        let text_param = |name: &str, what: &str| {
            json!({"name": name, "in": "query", "required": false,
            "description": what, "schema": {"type": "string", "maxLength": 2000}})
        };
        let mut callback = open(operation(TAG, "finish_oidc_sign_in", "The provider's return",
            &format!("No key. The provider sends the browser back here. The `state` must be one this server handed out to this browser in the last ten minutes (used once), the ID token must verify (signature, issuer, audience, expiry, `nonce`), and the person's groups (`PORTOLAN_OIDC_ROLE_CLAIM`, from the ID token or the user info) must map to a role in `PORTOLAN_ROLE_MAP`, read again at every sign-in: else 403 `FORBIDDEN_ROLE`. The account is linked by issuer and subject, made at the first sign-in when `PORTOLAN_OIDC_AUTO_CREATE` allows. Then 303 to the web UI. {cookie} A refusal answers its error: as the error body, or as a page for a browser (`Accept: text/html`), with the same status."),
            vec![text_param("code", "The authorization code."), text_param("state", "The state handed out by start."),
                 text_param("iss", "The provider's issuer (RFC 9207): when sent, it must be the configured provider's."),
                 text_param("error", "The provider's refusal, if it refused."), text_param("error_description", "Its reason.")],
            None, Value::Null, &["400", "401", "403", "404", "429", "503"]));
        callback["responses"]["303"] = json!({"description": "Signed in: to the web UI"});
        self.add("/api/v1/auth/oidc/callback", "get", callback);
        self.add(
            "/api/v1/auth/session",
            "get",
            open(operation(
                TAG,
                "get_session",
                "The session",
                "The caller's session: the user, the CSRF token, the session's end and how it \
                 signed in; `data` is `null` without a session (no cookie, or one that ended, \
                 which is then cleared).",
                vec![],
                None,
                ok("200", "The session, or null", &maybe_signed_in),
                &["429"],
            )),
        );
        self.add(
            "/api/v1/auth/sign-out",
            "post",
            operation(
                TAG,
                "sign_out",
                "Sign out",
                &format!("{mine} Ends this session and clears the cookie."),
                vec![],
                None,
                ok("200", "Signed out", &done),
                &writes,
            ),
        );
        self.add(
            "/api/v1/auth/password",
            "post",
            operation(
                TAG,
                "change_password",
                "Change my password",
                &format!(
                    "{mine} With the current password; every other session of the person ends."
                ),
                vec![],
                Some(body(&password_body)),
                ok("200", "Changed", &done),
                &writes,
            ),
        );
        self.add(
            "/api/v1/auth/sessions",
            "get",
            operation(
                TAG,
                "list_sessions",
                "My sessions",
                &format!("{mine} Newest use first; `current` marks this one."),
                vec![],
                None,
                ok("200", "Sessions", &sessions),
                READ_ERRORS,
            ),
        );
        self.add(
            "/api/v1/auth/sessions/revoke-others",
            "post",
            operation(
                TAG,
                "revoke_other_sessions",
                "Sign out everywhere else",
                mine,
                vec![],
                None,
                ok("200", "How many ended", &done),
                &writes,
            ),
        );
        self.add(
            "/api/v1/auth/sessions/{id}",
            "delete",
            operation(
                TAG,
                "delete_session",
                "End one of my sessions",
                &format!("{mine} Another person's session is 404."),
                vec![param_ref("Id")],
                None,
                ok("200", "Ended", "DeletedEnvelope"),
                &writes,
            ),
        );
        self.add("/api/v1/auth/invites/{code}/accept", "post", open(operation(TAG, "accept_invite", "Accept an invite",
            &format!("No key. The invited person chooses a username and password and is signed in with the invite's role and networks; a code works once. {cookie}"),
            vec![code_param()], Some(body(&accept_body)), ok("201", "Signed in", &signed_in), &["400", "404", "409", "429"])));
        self.add("/api/v1/auth/password-links/{code}", "post", open(operation(TAG, "use_password_link", "Set a password with a link",
            "No key. The link of a new user without a password, or of a reset, sets the password once and ends the person's sessions.",
            vec![code_param()], Some(body(&link_body)), ok("200", "Set", &done), &["400", "404", "429"])));
        self.add("/api/v1/auth/events", "get", operation(TAG, "list_auth_events", "Sign-in audit",
            "Needs: Admin. Sign-ins, failures, sign-outs, password and second-factor changes, invites used, sessions revoked; newest first, kept 90 days.",
            vec![param_ref("Limit"), param_ref("Offset"),
                 json!({"name": "user_id", "in": "query", "required": false, "schema": {"type": "string", "format": "uuid"}}),
                 json!({"name": "type", "in": "query", "required": false, "schema": {"type": "string"}})],
            None, ok("200", "A page", &events), READ_ERRORS));

        let totp_code = self.add_schema::<TotpCodeBody>();
        let totp_disable = self.add_schema::<TotpDisableBody>();
        self.schemas.insert("TotpSetup".into(), json!({"type": "object", "required": ["secret", "otpauth_url", "qr_svg"],
            "properties": {"secret": {"type": "string"}, "otpauth_url": {"type": "string"}, "qr_svg": {"type": "string"}}}));
        self.schemas.insert("RecoveryCodes".into(), json!({"type": "object", "required": ["recovery_codes"],
            "properties": {"recovery_codes": {"type": "array", "items": {"type": "string"}, "minItems": 10, "maxItems": 10}}}));
        let totp_setup = self.envelope("TotpSetup");
        let recovery = self.envelope("RecoveryCodes");
        self.add("/api/v1/auth/totp/setup", "post", operation(TAG, "create_totp_setup", "Start a second factor",
            &format!("{mine} A new secret (base32), its `otpauth://` link and QR code (SVG); it is on only once confirmed. 409 while one is on."),
            vec![], None, ok("200", "The secret", &totp_setup), &writes));
        self.add("/api/v1/auth/totp/confirm", "post", operation(TAG, "confirm_totp", "Turn the second factor on",
            &format!("{mine} With the code the authenticator shows now (which then counts as used). Answers ten recovery codes, once; each works once in place of a code."),
            vec![], Some(body(&totp_code)), ok("200", "On", &recovery), &writes));
        self.add(
            "/api/v1/auth/totp/disable",
            "post",
            operation(
                TAG,
                "disable_totp",
                "Turn the second factor off",
                &format!("{mine} With the password; the recovery codes go too."),
                vec![],
                Some(body(&totp_disable)),
                ok("200", "Off", &done),
                &writes,
            ),
        );
        let base = "/api/v1/users";
        self.add(base, "get", operation(TAG, "list_users", "List users", "Needs: Admin.",
            vec![param_ref("Limit"), param_ref("Offset"),
                 json!({"name": "q", "in": "query", "required": false, "schema": {"type": "string"}}),
                 json!({"name": "role", "in": "query", "required": false, "schema": {"type": "string", "enum": ["Viewer", "Member", "Admin", "Owner"]}})],
            None, ok("200", "A page", &users), READ_ERRORS));
        let mut made = ok(
            "201",
            "Created; without a password, with a one-time link to set it",
            &created,
        );
        made["201"]["headers"] = json!({"Location": {"description": "The new user's URL", "schema": {"type": "string"}}});
        self.add(
            base,
            "post",
            operation(
                TAG,
                "create_user",
                "Create a user",
                &format!("{admin} Usernames are unique regardless of case (409)."),
                vec![param_ref("IdempotencyKey")],
                Some(body(&user_input)),
                made,
                &writes,
            ),
        );
        self.add(&format!("{base}/invites"), "post", operation(TAG, "create_user_invite", "Invite someone",
            &format!("{admin} A one-time link (`/#/invite/<code>`, 24 h unless `expires_in_hours`) with which a person chooses a username and password."),
            vec![param_ref("IdempotencyKey")], Some(body(&invite_body)), ok("201", "The link, shown once", &link), &writes));
        let item = format!("{base}/{{id}}");
        self.add(
            &item,
            "get",
            operation(
                TAG,
                "get_user",
                "Get a user",
                "Needs: Admin.",
                vec![param_ref("Id")],
                None,
                ok("200", "Found", &user_one),
                READ_ERRORS,
            ),
        );
        self.add(&item, "put", operation(TAG, "update_user", "Update a user",
            &format!("{admin} Role, networks, names, email, enabled. The last enabled Owner stays one (409). Disabling, or a new role or networks, ends the person's sessions at once."),
            vec![param_ref("Id")], Some(body(&user_input)), ok("200", "Updated", &user_one), &writes));
        self.add(
            &item,
            "delete",
            operation(
                TAG,
                "delete_user",
                "Delete a user",
                &format!("{admin} Not the last enabled Owner (409)."),
                vec![param_ref("Id")],
                None,
                ok("200", "Deleted", "DeletedEnvelope"),
                &writes,
            ),
        );
        self.add(&format!("{item}/totp"), "delete", operation(TAG, "delete_user_totp", "Turn a person's second factor off",
            &format!("{admin} For a lost authenticator: the person signs in with the password alone until they set a new one."),
            vec![param_ref("Id")], None, ok("200", "The user", &user_one), &writes));
        self.add(&format!("{item}/reset"), "post", operation(TAG, "reset_user_password", "A link to set a new password",
            &format!("{admin} A one-time link (`/#/password/<code>`, 24 h); the person's sessions end."),
            vec![param_ref("Id")], None, ok("200", "The link, shown once", &link), &writes));
    }

    pub(super) fn shares(&mut self) {
        let share = self.add_schema::<Share>();
        let input = self.add_schema::<ShareBody>();
        self.schemas.insert(
            format!("{share}List"),
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{share}")}}),
        );
        self.schemas.insert("ShareLink".into(), json!({"type": "object", "required": ["id", "token", "link"],
            "properties": {"id": {"type": "string", "format": "uuid"}, "token": {"type": "string"}, "link": {"type": "string"},
                           "expires_at": {"type": ["string", "null"], "format": "date-time"}, "has_password": {"type": "boolean"}}}));
        self.schemas.insert("SharedNetwork".into(), json!({"type": "object", "required": ["network", "hosts", "map"],
            "properties": {"network": {"type": "object"}, "hosts": {"type": "array", "items": {"type": "object"}},
                           "map": {"type": "object"}, "expires_at": {"type": ["string", "null"], "format": "date-time"}}}));
        let list = self.envelope(&format!("{share}List"));
        let link = self.envelope("ShareLink");
        let shared = self.envelope("SharedNetwork");
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        let admin = "Needs: Admin, and the network within the key's.";
        let base = "/api/v1/networks/{id}/shares";
        self.add(
            base,
            "get",
            operation(
                "Shares",
                "list_network_shares",
                "A network's shares",
                &format!("{admin} Never their tokens."),
                vec![param_ref("Id")],
                None,
                ok("200", "The shares", &list),
                READ_ERRORS,
            ),
        );
        let mut made = ok("201", "The link, shown once", &link);
        made["201"]["headers"] = json!({"Location": {"description": "The network's shares", "schema": {"type": "string"}}});
        self.add(base, "post", operation("Shares", "create_network_share", "Share a network read-only",
            &format!("{admin} A link (`/share/<token>`) that shows the network's map and hosts without an account, until `expires_at` or until revoked; with `password`, asked for when opened (checked like a person's, throttled). The token is stored hashed."),
            vec![param_ref("Id"), param_ref("IdempotencyKey")], Some(body(&input)), made, &writes));
        self.add("/api/v1/networks/{id}/shares/{share_id}", "delete", operation("Shares", "delete_network_share", "Revoke a share",
            &format!("{admin} The link is 404 at once."),
            vec![param_ref("Id"), json!({"name": "share_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}})],
            None, ok("200", "Revoked", "DeletedEnvelope"), &writes));
        let token = json!({"name": "token", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}});
        let password = json!({"name": "X-Portolan-Share-Password", "in": "header", "required": false, "schema": {"type": "string"}});
        self.add("/api/v1/shares/{token}", "get", open(operation("Shares", "get_share", "A shared network",
            "No key. The network, its hosts with their addresses, ports and services, and its map; a revoked, expired or unknown link is 404; one with a password without it (or with a wrong one) is 401 with `field: password`.",
            vec![token.clone(), password.clone()], None, ok("200", "The network", &shared), &["401", "404", "429"])));
        let mut svg = open(operation(
            "Shares",
            "get_share_map_svg",
            "A shared network's map as SVG",
            "No key. As `GET /api/v1/networks/{id}/map.svg`, for the share's network.",
            vec![token, password],
            None,
            serde_json::Value::Null,
            &["401", "404", "429"],
        ));
        svg["responses"]["200"] = json!({"description": "The map", "content": {"image/svg+xml": {"schema": {"type": "string"}}}});
        self.add("/api/v1/shares/{token}/map.svg", "get", svg);
    }
}
