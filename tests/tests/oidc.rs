//! OpenID Connect against a local identity server on 127.0.0.1 that signs
//! ID tokens with RS256 like `id.twitch.tv/oauth2`: the code and implicit
//! flows, verification failures, key rotation and `userinfo`.
//!
//! The two RSA keys in `fixtures/` exist only for these tests.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{Value, json};
use support::{Request, Response, TestServer, parse_pairs};
use twitch::{ClientSecret, Error, OAuth, OAuthError, OidcClaims};

const KEY_1: &[u8] = include_bytes!("fixtures/oidc_test_key_1.der");
const KEY_2: &[u8] = include_bytes!("fixtures/oidc_test_key_2.der");

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A JWT signed with `key` (or with whatever `alg` says, unsigned).
fn jwt(key: &[u8], kid: &str, alg: &str, claims: &Value) -> String {
    let header = b64url(json!({"alg": alg, "typ": "JWT", "kid": kid}).to_string().as_bytes());
    let payload = b64url(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let pair = RsaKeyPair::from_der(key).unwrap();
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut sig).unwrap();
    format!("{signing_input}.{}", b64url(&sig))
}

fn jwk(key: &[u8], kid: &str) -> Value {
    let pair = RsaKeyPair::from_der(key).unwrap();
    let c: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
    json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": b64url(&c.n), "e": b64url(&c.e)})
}

struct Idp {
    server: TestServer,
    key_fetches: Arc<AtomicUsize>,
    /// What `/token` puts in the ID token (as claims over the defaults).
    claims: Arc<Mutex<Value>>,
    /// Which keys `/keys` publishes.
    published: Arc<Mutex<Vec<Value>>>,
    /// Which key signs, and under which id.
    signer: Arc<Mutex<(&'static [u8], &'static str)>>,
}

impl Idp {
    fn issuer(&self) -> String {
        format!("{}/oauth2", self.server.url())
    }

    fn oauth(&self) -> OAuth {
        OAuth::new("cid", Some(ClientSecret::new("s3cret"))).auth_url(self.issuer())
    }

    fn id_token(&self, nonce: &str) -> String {
        let mut claims = json!({
            "iss": self.issuer(), "sub": "1234", "aud": "cid", "azp": "cid",
            "exp": now() + 900, "iat": now(), "nonce": nonce,
            "email": "cool@example.com", "email_verified": true, "preferred_username": "Cool_User",
        });
        for (k, v) in self.claims.lock().unwrap().as_object().unwrap() {
            claims[k] = v.clone();
        }
        let (key, kid) = *self.signer.lock().unwrap();
        jwt(key, kid, "RS256", &claims)
    }
}

async fn idp() -> Arc<Idp> {
    let key_fetches = Arc::new(AtomicUsize::new(0));
    let claims = Arc::new(Mutex::new(json!({})));
    let published = Arc::new(Mutex::new(vec![jwk(KEY_1, "k1")]));
    let signer: Arc<Mutex<(&'static [u8], &'static str)>> = Arc::new(Mutex::new((KEY_1, "k1")));
    let slot: Arc<Mutex<Option<Arc<Idp>>>> = Arc::default();
    let handler_slot = slot.clone();
    let server = TestServer::start(move |req: &Request| {
        let idp = handler_slot.lock().unwrap().clone().expect("started");
        let form: HashMap<String, String> = parse_pairs(&req.body_str()).into_iter().collect();
        let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/oauth2/token") if get("code") == "good-code" && get("client_secret") == "s3cret" => {
                let body = json!({
                    "access_token": "user-token", "refresh_token": "refresh-1", "expires_in": 14400,
                    "scope": ["openid", "user:read:email"], "token_type": "bearer",
                    "id_token": idp.id_token("n-1"),
                });
                Response::json(200, &body.to_string())
            }
            ("POST", "/oauth2/token") if get("code") == "plain-code" => Response::json(
                200,
                r#"{"access_token":"user-token","expires_in":14400,"scope":["user:read:email"],"token_type":"bearer"}"#,
            ),
            ("GET", "/oauth2/validate") => Response::json(
                200,
                r#"{"client_id":"cid","login":"cool_user","user_id":"1234","scopes":["openid","user:read:email"],"expires_in":14000}"#,
            ),
            ("GET", "/oauth2/keys") => {
                idp.key_fetches.fetch_add(1, Ordering::SeqCst);
                Response::json(200, &json!({"keys": *idp.published.lock().unwrap()}).to_string())
            }
            ("GET", "/oauth2/userinfo") if req.header("authorization") == Some("Bearer user-token") => Response::json(
                200,
                &json!({"aud": "cid", "exp": now() + 900, "iat": now(), "iss": idp.issuer(), "sub": "1234",
                    "preferred_username": "Cool_User", "picture": "https://example.com/p.png", "email": null})
                .to_string(),
            ),
            ("GET", "/oauth2/userinfo") => Response::json(401, r#"{"error":"Unauthorized","status":401,"message":"invalid token"}"#),
            _ => Response::empty(404),
        }
    })
    .await;
    let idp = Arc::new(Idp { server, key_fetches, claims, published, signer });
    *slot.lock().unwrap() = Some(idp.clone());
    idp
}

fn invalid(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::OAuth(OAuthError::InvalidIdToken(why))) => why,
        other => panic!("expected an invalid ID token, got {other:?}"),
    }
}

#[tokio::test]
async fn code_flow_returns_the_user_token_and_a_verified_id_token() {
    let idp = idp().await;
    let oauth = idp.oauth();
    let url = oauth.oidc_authorize_url(
        "http://localhost:3000/cb",
        &["user:read:email"],
        "st",
        "n-1",
        &OidcClaims::new().id_token("email").id_token("email_verified"),
    );
    assert!(url.starts_with(&format!("{}/authorize?response_type=code&", idp.issuer())), "{url}");
    assert!(url.contains("scope=openid%20user%3Aread%3Aemail") && url.contains("nonce=n-1"), "{url}");

    let code = OAuth::code_from_redirect("http://localhost:3000/cb?code=good-code&state=st", "st").unwrap();
    let (token, id) = oauth.exchange_code_oidc(&code, "http://localhost:3000/cb", "n-1").await.unwrap();
    assert_eq!(token.access_token.secret(), "user-token");
    assert_eq!(token.user_id, "1234");
    assert_eq!(id.claims.sub, "1234");
    assert_eq!(id.claims.aud, ["cid"]);
    assert_eq!(id.claims.iss, idp.issuer());
    assert_eq!(id.claims.nonce.as_deref(), Some("n-1"));
    assert_eq!(id.claims.email.as_deref(), Some("cool@example.com"));
    assert_eq!(id.claims.email_verified, Some(true));
    assert_eq!(id.claims.preferred_username.as_deref(), Some("Cool_User"));
    assert_eq!(id.raw().split('.').count(), 3);
    let debug = format!("{id:?}");
    assert!(!debug.contains(id.raw()) && debug.contains("<redacted>"), "{debug}");

    // A nonce other than the one sent is refused; so is an answer without an ID token.
    assert!(invalid(oauth.exchange_code_oidc(&code, "http://localhost:3000/cb", "n-2").await).contains("nonce"));
    assert!(
        invalid(oauth.exchange_code_oidc("plain-code", "http://localhost:3000/cb", "n-1").await).contains("id_token")
    );
    // The keys were fetched once and cached across all of this.
    assert_eq!(idp.key_fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn implicit_flow_reads_the_fragment() {
    let idp = idp().await;
    let oauth = idp.oauth();
    let url =
        oauth.oidc_implicit_url("http://localhost/cb", twitch::auth::NO_SCOPES, "st", "n-9", &OidcClaims::new(), true);
    assert!(url.contains("response_type=token%20id_token&"), "{url}");
    let redirect = format!(
        "http://localhost/cb#access_token=user-token&id_token={}&state=st&token_type=bearer",
        idp.id_token("n-9")
    );
    let (id, access) = oauth.id_token_from_fragment(&redirect, "st", "n-9").await.unwrap();
    assert_eq!(id.claims.sub, "1234");
    assert_eq!(access.map(|a| a.secret().to_owned()).as_deref(), Some("user-token"));

    let only_id = format!("#id_token={}&state=st", idp.id_token("n-9"));
    let (_, access) = oauth.id_token_from_fragment(&only_id, "st", "n-9").await.unwrap();
    assert!(access.is_none());
    assert!(matches!(
        oauth.id_token_from_fragment(&only_id, "other", "n-9").await,
        Err(Error::OAuth(OAuthError::StateMismatch))
    ));
    assert!(matches!(
        oauth.id_token_from_fragment("#access_token=x&state=st", "st", "n-9").await,
        Err(Error::OAuth(OAuthError::MalformedRedirect(_)))
    ));
}

#[tokio::test]
async fn tokens_that_do_not_hold_up_are_refused() {
    let idp = idp().await;
    let oauth = idp.oauth();
    let good = idp.id_token("n");
    assert!(oauth.verify_id_token(&good, Some("n")).await.is_ok());
    assert!(oauth.verify_id_token(&good, None).await.is_ok(), "no nonce to check");

    // Payload swapped after signing.
    let parts: Vec<&str> = good.split('.').collect();
    let forged = b64url(
        json!({"iss": idp.issuer(), "sub": "1", "aud": "cid", "exp": now() + 900, "iat": now()}).to_string().as_bytes(),
    );
    assert_eq!(
        invalid(oauth.verify_id_token(&format!("{}.{forged}.{}", parts[0], parts[2]), None).await),
        "bad signature"
    );
    // Not RS256.
    let none = format!("{}.{}.", b64url(br#"{"alg":"none","kid":"k1"}"#), parts[1]);
    assert!(invalid(oauth.verify_id_token(&none, None).await).contains("not RS256"));
    let hs = format!("{}.{}.{}", b64url(br#"{"alg":"HS256","kid":"k1"}"#), parts[1], parts[2]);
    assert!(invalid(oauth.verify_id_token(&hs, None).await).contains("not RS256"));
    // Not a JWT at all.
    for junk in ["", "a.b", "a.b.c.d", "!!.??.**"] {
        invalid(oauth.verify_id_token(junk, None).await);
    }

    let with = |claims: Value| {
        *idp.claims.lock().unwrap() = claims;
        idp.id_token("n")
    };
    assert!(invalid(oauth.verify_id_token(&with(json!({"exp": now() - 3600})), None).await).contains("expired"));
    assert!(invalid(oauth.verify_id_token(&with(json!({"iat": now() + 3600})), None).await).contains("future"));
    // Extreme times are compared, not overflowed.
    assert!(invalid(oauth.verify_id_token(&with(json!({"exp": i64::MIN})), None).await).contains("expired"));
    assert!(
        invalid(oauth.verify_id_token(&with(json!({"exp": i64::MAX, "iat": i64::MAX})), None).await).contains("future")
    );
    assert!(
        invalid(oauth.verify_id_token(&with(json!({"aud": "someone-else"})), None).await).contains("another client")
    );
    assert!(oauth.verify_id_token(&with(json!({"aud": ["other", "cid"]})), None).await.is_ok(), "cid among several");
    assert!(
        invalid(oauth.verify_id_token(&with(json!({"iss": "https://evil.example"})), None).await).contains("issued by")
    );
    assert!(invalid(oauth.verify_id_token(&with(json!({})), Some("other")).await).contains("nonce"));
}

#[tokio::test]
async fn a_new_signing_key_is_fetched_once_and_an_unknown_one_refused() {
    let idp = idp().await;
    let oauth = idp.oauth();
    assert!(oauth.verify_id_token(&idp.id_token("n"), Some("n")).await.is_ok());
    assert_eq!(idp.key_fetches.load(Ordering::SeqCst), 1);

    // Twitch rotates: a token signed by k2, which the cache has not seen.
    idp.published.lock().unwrap().push(jwk(KEY_2, "k2"));
    *idp.signer.lock().unwrap() = (KEY_2, "k2");
    let clone = oauth.clone();
    assert!(clone.verify_id_token(&idp.id_token("n"), Some("n")).await.is_ok());
    assert!(oauth.verify_id_token(&idp.id_token("n"), Some("n")).await.is_ok(), "clones share the keys");
    assert_eq!(idp.key_fetches.load(Ordering::SeqCst), 2);

    // k2's token under k1's id: the signature does not match.
    *idp.signer.lock().unwrap() = (KEY_2, "k1");
    assert_eq!(invalid(oauth.verify_id_token(&idp.id_token("n"), None).await), "bad signature");
    // A key id nobody published: one more fetch, then refused.
    *idp.signer.lock().unwrap() = (KEY_1, "k9");
    assert!(invalid(oauth.verify_id_token(&idp.id_token("n"), None).await).contains("no signing key k9"));
    assert_eq!(idp.key_fetches.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn userinfo_is_typed_and_a_bad_token_is_rejected() {
    let idp = idp().await;
    let oauth = idp.oauth();
    let info = oauth.userinfo(&twitch::AccessToken::new("user-token")).await.unwrap();
    assert_eq!(info.sub, "1234");
    assert_eq!(info.preferred_username.as_deref(), Some("Cool_User"));
    assert_eq!(info.picture.as_deref(), Some("https://example.com/p.png"));
    assert_eq!(info.email, None);
    assert_eq!(info.aud, ["cid"]);
    let req = &idp.server.requests()[0];
    assert_eq!(req.header("authorization"), Some("Bearer user-token"));
    match oauth.userinfo(&twitch::AccessToken::new("nope")).await {
        Err(Error::OAuth(OAuthError::Rejected { operation: "userinfo", status: 401, message })) => {
            assert_eq!(message, "invalid token")
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// With keys the app already holds, verification needs no network: the
/// same checks, at the time given.
#[test]
fn verification_with_keys_in_hand_is_offline() {
    let issuer = "http://127.0.0.1:1/oauth2"; // nothing listens there
    let o = OAuth::new("cid", None).auth_url(issuer);
    let keys = json!({"keys": [jwk(KEY_1, "k1"), jwk(KEY_2, "k2")]}).to_string();
    let at = |secs: i64| UNIX_EPOCH + std::time::Duration::from_secs(secs as u64);
    let claims = json!({"iss": issuer, "sub": "1234", "aud": "cid", "exp": 2_000_000_900i64, "iat": 2_000_000_000i64, "nonce": "n"});
    let token = jwt(KEY_2, "k2", "RS256", &claims);
    let id = o.verify_id_token_with_keys(&token, &keys, Some("n"), at(2_000_000_100)).unwrap();
    assert_eq!(id.claims.sub, "1234");
    let refused = |e: Error| matches!(e, Error::OAuth(OAuthError::InvalidIdToken(_)));
    assert!(refused(o.verify_id_token_with_keys(&token, &keys, Some("n"), at(2_000_002_000)).unwrap_err()), "expired");
    assert!(refused(o.verify_id_token_with_keys(&token, &keys, Some("m"), at(2_000_000_100)).unwrap_err()), "nonce");
    let only_1 = json!({"keys": [jwk(KEY_1, "k1")]}).to_string();
    assert!(refused(o.verify_id_token_with_keys(&token, &only_1, None, at(2_000_000_100)).unwrap_err()), "no k2");
    let forged = jwt(KEY_1, "k2", "RS256", &claims);
    assert!(refused(o.verify_id_token_with_keys(&forged, &keys, None, at(2_000_000_100)).unwrap_err()), "signature");
    assert!(refused(o.verify_id_token_with_keys(&token, "not json", None, at(2_000_000_100)).unwrap_err()), "keys");
}
