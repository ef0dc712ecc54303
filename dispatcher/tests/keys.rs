//! Token keys rotate without refusing anyone: a shared secret's predecessor stays accepted while
//! its tokens expire, and an identity provider's key set picks each token's key by `kid` and is read
//! again while the service runs, so a key the provider publishes works without a restart.

mod common;
#[path = "service/harness.rs"]
mod harness;

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use dispatcher::{
    auth::{Algorithm, Bearer, Claims, Issuer, Secret, TokenSettings, Verifier},
    clock::WallClock,
    config::{Config, ConfigError},
    planner::TravelModel,
    service::Running,
};
use harness::support_claims;
use jsonwebtoken::{EncodingKey, Header, jwk::Jwk};
use proto::dispatch::v1::{self as pb, support_service_client::SupportServiceClient};
use tonic::{Code, transport::Endpoint};

const CURRENT: &str = "the current shared secret, 32+ bytes";
const PREVIOUS: &str = "the previous shared secret, 32+ byte";

/// The configuration with `vars` set; a later value of a variable wins.
fn from_env(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let lookup = |name: &str| {
        vars.iter()
            .rfind(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    };
    Config::from_sources(None, &lookup)
}

/// A token signed with the shared secret `secret`.
fn signed_with_secret(secret: &str, claims: &Claims) -> String {
    let settings = TokenSettings::shared_secret(Secret::new(secret).unwrap());
    Issuer::new(&settings).unwrap().sign(claims).unwrap()
}

fn refusal(verifier: &Verifier, token: &str) -> String {
    verifier
        .verify(token)
        .expect_err("the token must be refused")
        .to_string()
}

#[test]
fn a_rotated_secret_keeps_the_previous_secret_s_tokens_until_they_expire() {
    let config = from_env(&[
        ("AUTH_JWT_SECRET", CURRENT),
        ("AUTH_JWT_SECRET_PREVIOUS", PREVIOUS),
    ])
    .unwrap();
    let settings = config.auth.expect("settings");
    assert!(!format!("{settings:?}").contains(PREVIOUS));
    let verifier = Verifier::new(&settings).unwrap();

    let old = signed_with_secret(PREVIOUS, &support_claims(600));
    assert_eq!(verifier.verify(&old).unwrap().subject, "op-1");
    // New tokens are signed with the current secret: a verifier that knows only it accepts them.
    let new = Issuer::new(&settings)
        .unwrap()
        .sign(&support_claims(600))
        .unwrap();
    let current_only = TokenSettings::shared_secret(Secret::new(CURRENT).unwrap());
    assert!(Verifier::new(&current_only).unwrap().verify(&new).is_ok());

    let forged = signed_with_secret("a third secret nobody configured!!", &support_claims(600));
    assert!(refusal(&verifier, &forged).contains("signature does not verify"));
    // An old token that expired says so, rather than that its signature is wrong.
    let expired = signed_with_secret(PREVIOUS, &support_claims(-3600));
    assert!(refusal(&verifier, &expired).contains("expired"));

    let alone = from_env(&[("AUTH_JWT_SECRET_PREVIOUS", PREVIOUS)]).unwrap_err();
    let text = alone.to_string();
    assert!(text.starts_with("AUTH_JWT_SECRET_PREVIOUS=*** "), "{text}");
    assert!(!text.contains(PREVIOUS), "{text}");
    let short = from_env(&[
        ("AUTH_JWT_SECRET", CURRENT),
        ("AUTH_JWT_SECRET_PREVIOUS", "short"),
    ])
    .unwrap_err();
    assert!(
        short
            .to_string()
            .starts_with("AUTH_JWT_SECRET_PREVIOUS=*** "),
        "{short}"
    );
}

/// An identity provider's signing key: the private half signs, the JWK goes in the key set.
struct ProviderKey {
    kid: &'static str,
    signing: EncodingKey,
    public: serde_json::Value,
}

impl ProviderKey {
    fn new(kid: &'static str) -> ProviderKey {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let signing = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&signing, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        ProviderKey {
            kid,
            signing,
            public: serde_json::to_value(jwk).unwrap(),
        }
    }

    /// A token naming this key, signed with it.
    fn sign(&self, claims: &Claims) -> String {
        self.sign_as(Some(self.kid), claims)
    }

    /// A token signed with this key whose header names `kid`.
    fn sign_as(&self, kid: Option<&str>, claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.signing).unwrap()
    }
}

/// A key set file in a directory of its own.
struct KeySetFile {
    dir: PathBuf,
    path: PathBuf,
}

impl KeySetFile {
    fn new() -> KeySetFile {
        let dir = std::env::temp_dir().join(format!("dispatch-jwks-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("jwks.json");
        KeySetFile { dir, path }
    }

    /// Publishes `keys`, replacing the file at once as a provider's sync job would.
    fn publish(&self, keys: &[&ProviderKey]) {
        let set = serde_json::json!({ "keys": keys.iter().map(|k| &k.public).collect::<Vec<_>>() });
        self.write(set.to_string().as_bytes());
    }

    fn write(&self, text: &[u8]) {
        let fresh = self.dir.join("jwks.json.new");
        std::fs::write(&fresh, text).unwrap();
        std::fs::rename(&fresh, &self.path).unwrap();
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AUTH_JWT_JWKS_FILE", self.path.display().to_string()),
            ("AUTH_JWT_ALGORITHM", "ES256".to_owned()),
        ]
    }
}

impl Drop for KeySetFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn config_for(file: &KeySetFile, more: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env = file.env();
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    vars.extend_from_slice(more);
    from_env(&vars)
}

#[test]
fn a_key_set_picks_each_token_s_key_by_kid_and_follows_the_provider_s_rotation() {
    let (k1, k2) = (ProviderKey::new("k1"), ProviderKey::new("k2"));
    let file = KeySetFile::new();
    file.publish(&[&k1]);
    let settings = config_for(&file, &[]).unwrap().auth.expect("settings");
    let verifier = Verifier::new(&settings).unwrap();
    assert!(verifier.reloads());

    assert_eq!(
        verifier
            .verify(&k1.sign(&support_claims(600)))
            .unwrap()
            .subject,
        "op-1"
    );
    let early = k2.sign(&support_claims(600));
    assert!(refusal(&verifier, &early).contains("kid names no key"));
    assert!(refusal(&verifier, &k1.sign_as(None, &support_claims(600))).contains("no kid"));
    let claimed = k2.sign_as(Some("k1"), &support_claims(600));
    assert!(refusal(&verifier, &claimed).contains("signature does not verify"));

    // The provider publishes its next key beside the current one, then signs with it.
    file.publish(&[&k1, &k2]);
    assert_eq!(verifier.reload().unwrap(), ["k1", "k2"]);
    assert!(verifier.verify(&early).is_ok());
    assert!(verifier.verify(&k1.sign(&support_claims(600))).is_ok());

    // A broken file (a sync job cut short) leaves the keys in use.
    file.write(b"{\"keys\": [");
    let error = verifier.reload().unwrap_err().to_string();
    assert!(error.contains("not a JSON Web Key Set"), "{error}");
    assert!(verifier.verify(&early).is_ok());

    // The old key withdrawn: its tokens stop working at once.
    file.publish(&[&k2]);
    assert_eq!(verifier.reload().unwrap(), ["k2"]);
    assert!(refusal(&verifier, &k1.sign(&support_claims(600))).contains("kid names no key"));
    assert!(verifier.verify(&early).is_ok());
}

#[test]
fn a_key_set_that_cannot_verify_the_algorithm_is_refused_at_start_up() {
    let key = ProviderKey::new("k1");
    let file = KeySetFile::new();
    let refused = |keys: serde_json::Value, more: &[(&str, &str)]| {
        file.write(serde_json::json!({ "keys": keys }).to_string().as_bytes());
        let error = config_for(&file, more).unwrap_err().to_string();
        assert!(error.starts_with("AUTH_JWT_JWKS_FILE="), "{error}");
        error
    };

    let mut no_kid = key.public.clone();
    no_kid.as_object_mut().unwrap().remove("kid");
    assert!(refused(serde_json::json!([no_kid]), &[]).contains("has no kid"));
    let twice = serde_json::json!([key.public, key.public]);
    assert!(refused(twice, &[]).contains("two keys have the kid \"k1\""));
    // Keys for encryption or bound to another algorithm are not signing keys for this one.
    let mut encryption = key.public.clone();
    encryption["use"] = "enc".into();
    encryption["alg"] = serde_json::Value::Null;
    let mut other_alg = key.public.clone();
    other_alg["alg"] = "ES384".into();
    assert!(
        refused(serde_json::json!([encryption, other_alg]), &[])
            .contains("none of its 2 keys verifies ES256")
    );
    // A key set holds public keys; it never makes a shared-secret algorithm usable.
    let secret = serde_json::json!([{ "kty": "oct", "k": "c2VjcmV0", "kid": "s" }]);
    assert!(refused(secret, &[("AUTH_JWT_ALGORITHM", "HS256")]).contains("needs a shared secret"));

    file.write(b"not json");
    let error = config_for(&file, &[]).unwrap_err().to_string();
    assert!(error.contains("not a JSON Web Key Set"), "{error}");

    file.publish(&[&key]);
    let both = config_for(&file, &[("AUTH_JWT_SECRET", CURRENT)]).unwrap_err();
    assert!(both.to_string().contains("one key"), "{both}");
    let missing = from_env(&[("AUTH_JWT_JWKS_FILE", "/nonexistent/jwks.json")]).unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("AUTH_JWT_JWKS_FILE=/nonexistent/jwks.json"),
        "{missing}"
    );
}

/// Asks for an order that does not exist: `NOT_FOUND` means the token was accepted.
async fn lookup(addr: std::net::SocketAddr, token: &str) -> Code {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut support = SupportServiceClient::with_interceptor(channel, Bearer::new(token).unwrap());
    let request = pb::GetOrderRequest {
        scope: Some(pb::Scope {
            tenant_id: "demo".into(),
            region_id: "city".into(),
        }),
        order_id: "o-404".into(),
    };
    match support.get_order(request).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test]
async fn the_running_service_takes_a_newly_published_key_without_a_restart() {
    let (k1, k2) = (ProviderKey::new("k1"), ProviderKey::new("k2"));
    let file = KeySetFile::new();
    file.publish(&[&k1]);
    let mut config = config_for(&file, &[("AUTH_JWT_JWKS_REFRESH_S", "1")]).unwrap();
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = "127.0.0.1:0".parse().unwrap();
    config.dispatch_regions = vec![dispatcher::domain::RegionKey::new("demo", "city")];
    let running = Running::start(&config, Arc::new(WallClock), TravelModel::straight())
        .await
        .expect("the service starts with a key set");
    let addr = running.grpc_addr;

    assert_eq!(
        lookup(addr, &k1.sign(&support_claims(600))).await,
        Code::NotFound
    );
    let next = k2.sign(&support_claims(600));
    assert_eq!(lookup(addr, &next).await, Code::Unauthenticated);

    file.publish(&[&k1, &k2]);
    // The service reads the set every second; wait for that, bounded, not for a fixed time.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match lookup(addr, &next).await {
            Code::NotFound => break,
            Code::Unauthenticated if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("the new key was not taken within 30 s: last answer {other:?}"),
        }
    }
    running.shutdown().await;
}
