//! Single sign-on by OpenID Connect (authorization code flow with PKCE, `state` and `nonce`):
//! the provider's discovery document, kept for a few minutes; the sign-ins under way, kept in
//! memory for ten minutes and used once; and the exchange of a code for an ID token whose
//! signature, issuer, audience, expiry and nonce the `openidconnect` crate verifies. Every call
//! here blocks on the network: handlers run them through `web::block`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde_json::{Map, Value};

use crate::config::OidcConfig;
use crate::domain::token::{hash, hex};
use crate::error::{ApiError, ApiResult};

/// How long a sign-in may take between leaving for the provider and coming back.
const FLOW_TTL: Duration = Duration::from_secs(600);
/// Sign-ins under way at most: starting one needs no account, so their number is bounded.
const MAX_FLOWS: usize = 10_000;
/// How long the provider's discovery document (and its signing keys) is trusted before it is
/// read again; a key rotation at the provider is seen within this time.
const METADATA_TTL: Duration = Duration::from_secs(300);
/// The provider's answers are small; anything larger is refused.
const MAX_ANSWER_BYTES: u64 = 1 << 20;

struct Flow {
    /// SHA-256 of the value of the browser's flow cookie: the code must come back to the
    /// browser that left for the provider (no sign-in planted from another browser).
    browser: String,
    nonce: String,
    pkce_verifier: String,
    redirect_uri: String,
    return_to: String,
    started: Instant,
}

/// A sign-in sent to the provider: where the browser goes, and the cookie that ties it to us.
pub struct Started {
    pub auth_url: String,
    pub browser_cookie: String,
}

/// The person the provider vouched for.
#[derive(Debug, Clone)]
pub struct Person {
    pub issuer: String,
    pub subject: String,
    /// Names to make an account under, best first (preferred_username, email, name).
    pub names: Vec<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// The role claim's values (a list, or one string of comma- or space-separated groups).
    pub groups: Vec<String>,
    /// Where the person was going when they signed in (a route of the web UI).
    pub return_to: String,
}

pub struct Oidc {
    config: OidcConfig,
    http: ureq::Agent,
    provider: Mutex<Option<(Instant, CoreProviderMetadata)>>,
    flows: Mutex<HashMap<String, Flow>>,
}

fn refused(why: impl std::fmt::Display) -> ApiError {
    ApiError::unauthorized(format!("Single sign-on failed: {why}"))
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Oidc {
        let http = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Following redirects would let a provider's answer send us anywhere (SSRF).
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Oidc {
            config,
            http,
            provider: Mutex::new(None),
            flows: Mutex::new(HashMap::new()),
        }
    }

    /// The label of the sign-in button.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    fn call(&self, request: HttpRequest) -> Result<HttpResponse, ureq::Error> {
        let response = self.http.run(request)?;
        let (parts, mut body) = response.into_parts();
        let bytes = body.with_config().limit(MAX_ANSWER_BYTES).read_to_vec()?;
        Ok(HttpResponse::from_parts(parts, bytes))
    }

    fn metadata(&self) -> ApiResult<CoreProviderMetadata> {
        if let Some((fetched, m)) = self.provider.lock().expect("provider lock").as_ref() {
            if fetched.elapsed() < METADATA_TTL {
                return Ok(m.clone());
            }
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| ApiError::internal(format!("the OpenID issuer URL: {e}")))?;
        let client = |r: HttpRequest| self.call(r);
        let metadata = CoreProviderMetadata::discover(&issuer, &client).map_err(|e| {
            log::warn!(
                "OpenID Connect discovery at {} failed: {e}",
                self.config.issuer
            );
            ApiError::unavailable("The single sign-on provider cannot be reached; try again")
        })?;
        *self.provider.lock().expect("provider lock") = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn client(&self, metadata: CoreProviderMetadata, redirect_uri: &str) -> ApiResult<Client> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| ApiError::internal(format!("the sign-in's return address: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Begins a sign-in: the provider's address to send the browser to, with a new `state`,
    /// `nonce` and PKCE challenge, and the cookie value that ties the sign-in to this browser.
    pub fn start(&self, redirect_uri: &str, return_to: &str) -> ApiResult<Started> {
        let client = self.client(self.metadata()?, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let browser_cookie = hex(&rand::random::<[u8; 32]>());
        let mut flows = self.flows.lock().expect("flows lock");
        flows.retain(|_, f| f.started.elapsed() < FLOW_TTL);
        if flows.len() >= MAX_FLOWS {
            return Err(ApiError::unavailable(
                "Too many sign-ins are under way; try again in a few minutes",
            ));
        }
        flows.insert(
            hash(state.secret()),
            Flow {
                browser: hash(&browser_cookie),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                redirect_uri: redirect_uri.to_string(),
                return_to: return_to.to_string(),
                started: Instant::now(),
            },
        );
        Ok(Started {
            auth_url: url.to_string(),
            browser_cookie,
        })
    }

    /// Ends a sign-in: the `state` must be one this server handed out, to this browser, less
    /// than ten minutes ago, and is used up whatever happens next; then the code is exchanged
    /// (with the PKCE verifier) and the ID token verified, nonce included.
    /// `iss`, when the provider sends it back (RFC 9207), must name the provider itself.
    pub fn finish(
        &self,
        state: &str,
        browser_cookie: Option<&str>,
        code: &str,
        iss: Option<&str>,
    ) -> ApiResult<Person> {
        let flow = self
            .flows
            .lock()
            .expect("flows lock")
            .remove(&hash(state))
            .filter(|f| f.started.elapsed() < FLOW_TTL)
            .ok_or_else(|| {
                refused("this sign-in was not started here, has expired or was already used")
                    .with_field("state")
            })?;
        if browser_cookie.map(hash).as_deref() != Some(flow.browser.as_str()) {
            return Err(refused("this sign-in was started in another browser").with_field("state"));
        }
        let metadata = self.metadata()?;
        if iss.is_some_and(|i| i != metadata.issuer().as_str()) {
            return Err(refused("the answer comes from another issuer").with_field("iss"));
        }
        let userinfo_url = metadata.userinfo_endpoint().map(|u| u.url().clone());
        let client = self.client(metadata, &flow.redirect_uri)?;
        let http = |r: HttpRequest| self.call(r);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| ApiError::internal(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier))
            .request(&http)
            .map_err(|e| refused(format!("the provider did not accept the code ({e})")))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| refused("the provider's answer has no ID token"))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(flow.nonce))
            .map_err(|e| {
                refused(format!("the ID token does not verify ({e})")).with_field("nonce")
            })?;
        let subject = claims.subject().as_str().to_string();
        // The token is verified: its other claims (the role claim among them) can be read from
        // its payload as they are, whatever their shape.
        let mut extra = payload(&id_token.to_string());
        if !extra.contains_key(&self.config.role_claim) {
            if let Some(url) = userinfo_url {
                let info = self.userinfo(url.as_str(), tokens.access_token().secret())?;
                if info.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
                    return Err(refused("the provider's user info names someone else"));
                }
                extra.extend(info);
            }
        }
        let text = |k: &str| {
            extra
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let email = text("email");
        let names = [
            text("preferred_username"),
            email.clone(),
            text("name"),
            Some(subject.clone()),
        ]
        .into_iter()
        .flatten()
        .collect();
        Ok(Person {
            issuer: claims.issuer().as_str().to_string(),
            subject,
            names,
            display_name: text("name"),
            email,
            groups: groups(extra.get(&self.config.role_claim)),
            return_to: flow.return_to,
        })
    }

    /// The provider's user info, for the claims its ID tokens leave out.
    fn userinfo(&self, url: &str, access_token: &str) -> ApiResult<Map<String, Value>> {
        let request = openidconnect::http::Request::get(url)
            .header("Authorization", format!("Bearer {access_token}"))
            .header("Accept", "application/json")
            .body(Vec::new())
            .map_err(ApiError::internal)?;
        let answer = self
            .call(request)
            .map_err(|e| refused(format!("the provider's user info cannot be read ({e})")))?;
        if !answer.status().is_success() {
            return Err(refused(format!(
                "the provider's user info answered {}",
                answer.status()
            )));
        }
        match serde_json::from_slice(answer.body()) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(refused("the provider's user info is not a JSON object")),
        }
    }
}

type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The claims of a JWT's payload (already verified by the caller).
fn payload(jwt: &str) -> Map<String, Value> {
    use base64::Engine;
    jwt.split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// A role claim's groups: a list of strings, or one string of comma- or space-separated names.
fn groups(claim: Option<&Value>) -> Vec<String> {
    match claim {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => crate::domain::account::split_groups(s)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_as_a_list_or_as_one_string() {
        assert_eq!(
            groups(Some(&serde_json::json!(["lab-admins", 3, "lab"]))),
            vec!["lab-admins", "lab"]
        );
        assert_eq!(
            groups(Some(&serde_json::json!("lab-admins, lab"))),
            vec!["lab-admins", "lab"]
        );
        assert!(groups(Some(&serde_json::json!({"a": 1}))).is_empty());
        assert!(groups(None).is_empty());
    }

    #[test]
    fn a_payload_is_read_from_the_middle_of_the_token() {
        use base64::Engine;
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"ada","groups":["lab"]}"#);
        let claims = payload(&format!("e30.{body}.sig"));
        assert_eq!(claims["sub"], "ada");
        assert!(payload("not a token").is_empty());
    }
}
