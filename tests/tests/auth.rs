//! OAuth flows against a local identity server on 127.0.0.1 that answers
//! like `id.twitch.tv/oauth2`.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use support::{Request, Response, TestServer, parse_pairs};
use twitch::{ClientSecret, Error, OAuth, OAuthError};

fn form(req: &Request) -> HashMap<String, String> {
    parse_pairs(&req.body_str()).into_iter().collect()
}

fn token_json(access: &str, refresh: Option<&str>) -> String {
    match refresh {
        Some(r) => format!(
            r#"{{"access_token":"{access}","expires_in":14400,"refresh_token":"{r}","scope":["chat:read","user:read:email"],"token_type":"bearer"}}"#
        ),
        None => format!(r#"{{"access_token":"{access}","expires_in":5011271,"token_type":"bearer"}}"#),
    }
}

/// A fake identity service. Refresh tokens are single-use; device codes
/// answer pending, then slow_down, then success.
async fn identity_server() -> (TestServer, Arc<AtomicUsize>) {
    let used_refresh: Arc<Mutex<Vec<String>>> = Arc::default();
    let revoked: Arc<Mutex<Vec<String>>> = Arc::default();
    let device_polls = Arc::new(AtomicUsize::new(0));
    let polls = device_polls.clone();
    let server = TestServer::start(move |req| {
        let f = form(req);
        let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/oauth2/token") => match get("grant_type") {
                "client_credentials" if get("client_id") == "cid" && get("client_secret") == "s3cret" => {
                    Response::json(200, &token_json("app-token", None))
                }
                "client_credentials" => Response::json(403, r#"{"status":403,"message":"invalid client secret"}"#),
                "authorization_code" if get("code") == "good-code" && get("client_secret") == "s3cret" => {
                    Response::json(200, &token_json("user-token", Some("refresh-1")))
                }
                "authorization_code" => Response::json(400, r#"{"status":400,"message":"Invalid authorization code"}"#),
                "refresh_token" => {
                    let r = get("refresh_token").to_owned();
                    let mut used = used_refresh.lock().unwrap();
                    if r.starts_with("refresh-") && !used.contains(&r) {
                        used.push(r.clone());
                        let n: u32 = r.trim_start_matches("refresh-").parse().unwrap_or(0);
                        Response::json(200, &token_json(&format!("user-token-{}", n + 1), Some(&format!("refresh-{}", n + 1))))
                    } else {
                        Response::json(400, r#"{"error":"Bad Request","status":400,"message":"Invalid refresh token"}"#)
                    }
                }
                "urn:ietf:params:oauth:grant-type:device_code" => match get("device_code") {
                    "expired" => Response::json(400, r#"{"status":400,"message":"invalid device code"}"#),
                    "denied" => Response::json(400, r#"{"status":400,"message":"authorization_denied"}"#),
                    _ => match polls.fetch_add(1, Ordering::SeqCst) {
                        0 => Response::json(400, r#"{"status":400,"message":"authorization_pending"}"#),
                        1 => Response::json(400, r#"{"status":400,"message":"slow_down"}"#),
                        _ => Response::json(200, &token_json("device-token", Some("refresh-100"))),
                    },
                },
                _ => Response::json(400, r#"{"status":400,"message":"unsupported grant type"}"#),
            },
            ("POST", "/oauth2/device") => Response::json(
                200,
                r#"{"device_code":"dev-123","expires_in":1800,"interval":1,"user_code":"ABCDEFGH","verification_uri":"https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH"}"#,
            ),
            ("GET", "/oauth2/validate") => {
                let token = req.header("authorization").unwrap_or("").trim_start_matches("OAuth ").to_owned();
                if revoked.lock().unwrap().contains(&token) || token.is_empty() || token == "garbage" {
                    Response::json(401, r#"{"status":401,"message":"invalid access token"}"#)
                } else {
                    Response::json(
                        200,
                        r#"{"client_id":"cid","login":"twitchdev","scopes":["chat:read","user:read:email"],"user_id":"141981764","expires_in":5520838}"#,
                    )
                }
            }
            ("POST", "/oauth2/revoke") => {
                if get("client_id") != "cid" {
                    Response::json(404, r#"{"status":404,"message":"client does not exist"}"#)
                } else if get("token").is_empty()
                    || get("token") == "garbage"
                    || revoked.lock().unwrap().iter().any(|t| t == get("token"))
                {
                    Response::json(400, r#"{"status":400,"message":"Invalid token"}"#)
                } else {
                    revoked.lock().unwrap().push(get("token").to_owned());
                    Response::empty(200)
                }
            }
            _ => Response::json(404, r#"{"status":404,"message":"not found"}"#),
        }
    })
    .await;
    (server, device_polls)
}

fn oauth(server: &TestServer, secret: Option<&str>) -> OAuth {
    OAuth::new("cid", secret.map(ClientSecret::new)).auth_url(format!("{}/oauth2", server.url()))
}

fn rejected(err: Error) -> (u16, String) {
    match err {
        Error::OAuth(OAuthError::Rejected { status, message, .. }) => (status, message),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn client_credentials() {
    let (server, _) = identity_server().await;
    let app = oauth(&server, Some("s3cret")).client_credentials().await.unwrap();
    assert_eq!(app.access_token.secret(), "app-token");
    assert!(!app.expires_within(std::time::Duration::from_secs(60)));
    let (status, msg) = rejected(oauth(&server, Some("wrong")).client_credentials().await.unwrap_err());
    assert_eq!((status, msg.as_str()), (403, "invalid client secret"));
    // A public client cannot use this flow: caught before sending.
    assert!(matches!(oauth(&server, None).client_credentials().await, Err(Error::Config(_))));
}

#[tokio::test]
async fn authorization_code_flow() {
    let (server, _) = identity_server().await;
    let o = oauth(&server, Some("s3cret"));
    let state = twitch::__rt::auth::random_state();
    let url = o.authorize_url("http://localhost:3000/cb", &["chat:read"], &state, true);
    assert!(url.contains("response_type=code") && url.contains(&format!("state={state}")));
    // Twitch redirects back with the code and the same state.
    let redirect = format!("http://localhost:3000/cb?code=good-code&scope=chat%3Aread&state={state}");
    let code = OAuth::code_from_redirect(&redirect, &state).unwrap();
    let user = o.exchange_code(&code, "http://localhost:3000/cb").await.unwrap();
    assert_eq!(user.access_token.secret(), "user-token");
    assert_eq!(user.user_id, "141981764");
    assert_eq!(user.login, "twitchdev");
    assert!(user.has_scope("user:read:email"));
    // A forged redirect is refused before any exchange.
    let forged = "http://localhost:3000/cb?code=good-code&state=attacker";
    assert!(matches!(OAuth::code_from_redirect(forged, &state), Err(Error::OAuth(OAuthError::StateMismatch))));
    let (status, msg) = rejected(o.exchange_code("bad-code", "http://localhost:3000/cb").await.unwrap_err());
    assert_eq!((status, msg.as_str()), (400, "Invalid authorization code"));
}

#[tokio::test]
async fn implicit_flow_reads_the_fragment() {
    let (server, _) = identity_server().await;
    let o = oauth(&server, None);
    let url = o.implicit_url("http://localhost:3000", &["chat:read"], "st", false);
    assert!(url.contains("response_type=token"));
    let (token, scopes) = OAuth::token_from_fragment(
        "http://localhost:3000/#access_token=imp&scope=chat%3Aread&state=st&token_type=bearer",
        "st",
    )
    .unwrap();
    assert_eq!(token.secret(), "imp");
    assert_eq!(scopes, ["chat:read"]);
    assert_eq!(o.validate(&token).await.unwrap().login.unwrap(), "twitchdev");
}

#[tokio::test]
async fn refresh_tokens_are_single_use() {
    let (server, _) = identity_server().await;
    for secret in [Some("s3cret"), None] {
        let o = oauth(&server, secret);
        let first = o.exchange_code("good-code", "http://x").await;
        let user = match first {
            Ok(u) => u,
            // The public client cannot exchange a code; start from a device token instead.
            Err(Error::Config(_)) => {
                oauth(&server, Some("s3cret")).exchange_code("good-code", "http://x").await.unwrap()
            }
            Err(e) => panic!("{e}"),
        };
        let start = user.refresh_token.as_ref().unwrap().secret().to_owned();
        let fresh = o.refresh(&user).await;
        if start == "refresh-1" && secret.is_none() {
            // Already used by the confidential round.
            assert_eq!(rejected(fresh.unwrap_err()).1, "Invalid refresh token");
            continue;
        }
        let fresh = fresh.unwrap();
        assert_eq!(fresh.access_token.secret(), "user-token-2");
        assert_eq!(fresh.user_id, user.user_id, "the user is kept across a refresh");
        // Using the old refresh token again fails: it was single-use.
        assert_eq!(rejected(o.refresh(&user).await.unwrap_err()).1, "Invalid refresh token");
    }
    // Public clients refresh without the secret.
    let requests = server.requests();
    let last_refresh = requests.iter().rev().find(|r| r.body_str().contains("grant_type=refresh_token")).unwrap();
    assert!(!last_refresh.body_str().contains("client_secret"));
}

#[tokio::test]
async fn validate_and_revoke() {
    let (server, _) = identity_server().await;
    let o = oauth(&server, Some("s3cret"));
    let token = twitch::AccessToken::new("live-token");
    let v = o.validate(&token).await.unwrap();
    assert_eq!(v.client_id, "cid");
    assert_eq!(v.user_id.unwrap(), "141981764");
    o.revoke(&token).await.unwrap();
    let (status, _) = rejected(o.validate(&token).await.unwrap_err());
    assert_eq!(status, 401);
    // Revoking again, or a token Twitch does not know (400 "Invalid token"): done, not an error.
    o.revoke(&token).await.unwrap();
    o.revoke(&twitch::AccessToken::new("garbage")).await.unwrap();
    // Another refusal stays an error.
    let (status, msg) = rejected(
        OAuth::new("unknown", None).auth_url(format!("{}/oauth2", server.url())).revoke(&token).await.unwrap_err(),
    );
    assert_eq!((status, msg.as_str()), (404, "client does not exist"));
    assert_eq!(
        server.requests().iter().find(|r| r.path == "/oauth2/validate").unwrap().header("authorization"),
        Some("OAuth live-token")
    );
}

#[tokio::test]
async fn device_code_flow_waits_through_pending_and_slow_down() {
    let (server, polls) = identity_server().await;
    let o = oauth(&server, None);
    let device = o.device_start(&["chat:read", "user:read:email"]).await.unwrap();
    assert_eq!(device.user_code, "ABCDEFGH");
    assert!(device.verification_uri.starts_with("https://www.twitch.tv/activate"));
    let started = std::time::Instant::now();
    let user = o.device_poll(&device).await.unwrap();
    assert_eq!(user.access_token.secret(), "device-token");
    assert_eq!(user.login, "twitchdev");
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    // One interval (1 s) after pending, then interval + 5 s after slow_down.
    assert!(started.elapsed() >= std::time::Duration::from_secs(7), "{:?}", started.elapsed());
    let body = server.requests().iter().find(|r| r.path == "/oauth2/device").unwrap().body_str();
    assert!(body.contains("scopes=chat%3Aread%20user%3Aread%3Aemail"), "{body}");
}

#[tokio::test]
async fn device_code_expiry_and_denial() {
    let (server, _) = identity_server().await;
    let o = oauth(&server, None);
    let mut device = o.device_start(&["chat:read"]).await.unwrap();
    device.device_code = "expired".into();
    assert!(matches!(o.device_poll(&device).await, Err(Error::OAuth(OAuthError::DeviceCodeExpired))));
    device.device_code = "denied".into();
    assert!(matches!(o.device_poll(&device).await, Err(Error::OAuth(OAuthError::Denied { .. }))));
}

/// Numbers the identity service sends are bounded before they reach time
/// arithmetic: a huge `expires_in` or `interval` is no panic.
#[tokio::test]
async fn huge_numbers_from_the_identity_service_do_not_panic() {
    let huge = u64::MAX;
    let server = TestServer::start(move |req| match req.path.as_str() {
        "/oauth2/token" if req.body_str().contains("device_code") => {
            Response::json(400, r#"{"status":400,"message":"authorization_pending"}"#)
        }
        "/oauth2/token" => {
            Response::json(200, &format!(r#"{{"access_token":"a","refresh_token":"r","expires_in":{huge},"scope":[]}}"#))
        }
        "/oauth2/validate" => Response::json(
            200,
            &format!(r#"{{"client_id":"cid","login":"a","user_id":"1","scopes":[],"expires_in":{huge}}}"#),
        ),
        "/oauth2/device" => Response::json(
            200,
            &format!(
                r#"{{"device_code":"d","expires_in":{huge},"interval":{huge},"user_code":"U","verification_uri":"https://x"}}"#
            ),
        ),
        _ => Response::empty(404),
    })
    .await;
    let o = oauth(&server, Some("s3cret"));
    let app = o.client_credentials().await.unwrap();
    assert_eq!(app.expires_at, Some(twitch::Timestamp::MAX));
    let user = o.exchange_code("c", "http://x").await.unwrap();
    assert_eq!(user.expires_at, Some(twitch::Timestamp::MAX));
    // The stored form loads again.
    let stored = serde_json::to_string(&user).unwrap();
    assert_eq!(serde_json::from_str::<twitch::UserToken>(&stored).unwrap(), user);
    // An interval longer than the code's life: given up at once, not slept through.
    let device = o.device_start(&["chat:read"]).await.unwrap();
    let polled = tokio::time::timeout(std::time::Duration::from_secs(10), o.device_poll(&device)).await;
    assert!(matches!(polled, Ok(Err(Error::OAuth(OAuthError::DeviceCodeExpired)))), "{polled:?}");
}

#[test]
fn no_secret_in_debug_output() {
    let o = OAuth::new("cid", Some(ClientSecret::new("very-secret")));
    assert!(!format!("{o:?}").contains("very-secret"));
    let t: twitch::UserToken = serde_json::from_str(
        r#"{"access_token":"acc-secret","refresh_token":"ref-secret","expires_at":null,"user_id":"1","login":"a","scopes":[]}"#,
    )
    .unwrap();
    let d = format!("{t:?}");
    assert!(!d.contains("acc-secret") && !d.contains("ref-secret"), "{d}");
}

#[tokio::test]
async fn desktop_login_through_the_local_callback() {
    let (server, _) = identity_server().await;
    let o = oauth(&server, Some("s3cret"));
    let callback = twitch::callback::CallbackServer::bind(0, "/callback").await.unwrap();
    let redirect_uri = callback.redirect_uri();
    assert!(redirect_uri.starts_with("http://localhost:") && redirect_uri.ends_with("/callback"));
    let user = twitch::callback::login(&o, callback, &["chat:read"], std::time::Duration::from_secs(10), |url| {
        // Play the browser: Twitch approves and redirects back with the code and the same state.
        let state = url.split("state=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let port = redirect_uri.trim_start_matches("http://localhost:").split('/').next().unwrap().to_owned();
        tokio::spawn(async move {
            let http = twitch::__rt::tls::client_builder().unwrap().build().unwrap();
            // A stray request first (browsers ask for a favicon), then the redirect.
            let _ = http.get(format!("http://127.0.0.1:{port}/favicon.ico")).send().await;
            let page = http
                .get(format!("http://127.0.0.1:{port}/callback?code=good-code&scope=chat%3Aread&state={state}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(page.contains("close this window"));
        });
    })
    .await
    .unwrap();
    assert_eq!(user.login, "twitchdev");
    assert_eq!(user.scopes, [twitch::Scope::ChatRead, twitch::Scope::UserReadEmail]);
}

#[tokio::test]
async fn the_callback_refuses_a_forged_state() {
    let (server, _) = identity_server().await;
    let o = oauth(&server, Some("s3cret"));
    let callback = twitch::callback::CallbackServer::bind(0, "/cb").await.unwrap();
    let port = callback.redirect_uri().trim_start_matches("http://localhost:").split('/').next().unwrap().to_owned();
    let err =
        twitch::callback::login(&o, callback, twitch::auth::NO_SCOPES, std::time::Duration::from_secs(10), move |_| {
            tokio::spawn(async move {
                let http = twitch::__rt::tls::client_builder().unwrap().build().unwrap();
                let _ = http.get(format!("http://127.0.0.1:{port}/cb?code=good-code&state=forged")).send().await;
            });
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OAuth(OAuthError::StateMismatch)), "{err:?}");
    assert!(!server.requests().iter().any(|r| r.path == "/oauth2/token"), "no code exchange after a forged state");
}

/// The redirect listener's failures are typed: a login that takes too long,
/// and a port that cannot be bound (with the I/O error as `source()`).
#[tokio::test]
async fn callback_failures_are_typed() {
    use std::error::Error as _;
    let listener = twitch::callback::CallbackServer::bind(0, "/cb").await.unwrap();
    let waited = std::time::Duration::from_millis(50);
    match listener.wait(waited).await {
        Err(Error::LoginTimedOut { waited: w }) => assert_eq!(w, waited),
        other => panic!("{other:?}"),
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let e = twitch::callback::CallbackServer::bind(port, "/cb").await.unwrap_err();
    assert!(matches!(e, Error::Callback { .. }), "{e:?}");
    assert!(e.source().and_then(|s| s.downcast_ref::<std::io::Error>()).is_some());
}

/// Scopes are the generated `Scope`s or strings (for ones the schema does
/// not know yet), in every URL and call that takes them.
#[tokio::test]
async fn scopes_are_typed_or_strings() {
    use twitch::Scope;
    let (server, _) = identity_server().await;
    let o = oauth(&server, None);
    let typed = [Scope::ChatRead, Scope::UserReadEmail];
    let strings = ["chat:read", "user:read:email"];
    assert_eq!(
        o.authorize_url("http://localhost:3000/cb", &typed, "st", false),
        o.authorize_url("http://localhost:3000/cb", &strings, "st", false)
    );
    let unknown = [Scope::ChatRead, Scope::from("brand:new:scope")];
    let url = o.implicit_url("http://localhost:3000/cb", &unknown, "st", false);
    assert!(url.contains("scope=chat%3Aread%20brand%3Anew%3Ascope"), "{url}");
    let claims = twitch::OidcClaims::default();
    let oidc = o.oidc_authorize_url("http://localhost:3000/cb", &typed, "st", "n", &claims);
    assert!(oidc.contains("scope=openid%20chat%3Aread%20user%3Aread%3Aemail"), "{oidc}");

    o.device_start(&typed).await.unwrap();
    let body = server.requests().iter().find(|r| r.path == "/oauth2/device").unwrap().body_str();
    assert!(body.contains("scopes=chat%3Aread%20user%3Aread%3Aemail"), "{body}");

    let token = twitch::UserToken::new("t", "1", "me").with_scopes(typed.clone());
    assert_eq!(token.scopes, strings);
    // A token's scopes are typed; ones the crate does not know stay readable
    // and survive a round trip through a store's JSON.
    let token = twitch::UserToken::new("t", "1", "me").with_scopes(["chat:read", "brand:new:scope"]);
    assert_eq!(token.scopes, [Scope::ChatRead, Scope::Unknown("brand:new:scope".into())]);
    assert!(token.has_scope(Scope::ChatRead) && token.has_scope("brand:new:scope"));
    let json = serde_json::to_string(&token.scopes).unwrap();
    assert_eq!(json, r#"["chat:read","brand:new:scope"]"#);
    assert_eq!(serde_json::from_str::<Vec<Scope>>(&json).unwrap(), token.scopes);
    let client = twitch::Client::builder()
        .client_id("id")
        .user_token_with_scopes("t", [Scope::ChatRead])
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap();
    // Checked before sending: Send Chat Message needs user:write:chat.
    let e = client.send_chat_message("1", "1", "hi").send().await.unwrap_err();
    assert!(matches!(e, Error::MissingScope { .. }), "{e:?}");
}
