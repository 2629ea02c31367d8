//! API keys: accepted in `X-API-Key` or `Authorization: Bearer`, compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// The accepted keys, kept as SHA-256 digests: comparing digests of equal length hides the
/// keys' lengths as well as their contents from a timing observer.
#[derive(Clone, Default)]
pub struct ApiKeys {
    digests: Arc<Vec<[u8; 32]>>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeys({} keys)", self.digests.len())
    }
}

impl ApiKeys {
    /// Accepts these keys; blank ones are ignored.
    pub fn new(keys: impl IntoIterator<Item = String>) -> ApiKeys {
        let digests = keys
            .into_iter()
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .map(|k| digest(&k))
            .collect();
        ApiKeys {
            digests: Arc::new(digests),
        }
    }

    /// Keys from a comma-separated list (`FOLIO_API_KEY=k1,k2`).
    pub fn split_list(list: &str) -> Vec<String> {
        list.split(',').map(str::to_string).collect()
    }

    /// Keys from a key file: one per line; blank lines and `#` comments are skipped.
    pub fn split_file(text: &str) -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    }

    /// Adds the keys of `other`.
    pub fn merged(&self, other: &ApiKeys) -> ApiKeys {
        let mut all = self.digests.as_ref().clone();
        all.extend(other.digests.iter().copied());
        ApiKeys {
            digests: Arc::new(all),
        }
    }

    /// Whether no key is configured (the service is open).
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// Whether `presented` is one of the keys. Every key is compared, so the time taken does not
    /// say which one matched, or how much of one.
    pub fn verify(&self, presented: &str) -> bool {
        let d = digest(presented);
        self.digests
            .iter()
            .fold(subtle::Choice::from(0), |acc, k| acc | k.ct_eq(&d))
            .into()
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The key a request presents, if any.
fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.trim());
    }
    let auth = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Who is calling: a digest of the API key presented (domain-separated from the digest the
/// keys are checked with), stored with each job so that only its creator's key sees it.
/// `None` when the server has no keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Caller(pub Option<String>);

impl Caller {
    fn of(key: &str) -> Caller {
        let mut h = Sha256::new();
        h.update(b"folio job owner\0");
        h.update(key.as_bytes());
        let d: [u8; 32] = h.finalize().into();
        Caller(Some(d.iter().map(|b| format!("{b:02x}")).collect()))
    }
}

/// Middleware for the routes that need a key: 401 JSON without the right one. A request that
/// passes carries its [`Caller`].
pub(crate) async fn require_key(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let keys = &state.config.api_keys;
    if keys.is_empty() {
        request.extensions_mut().insert(Caller(None));
        return next.run(request).await;
    }
    match presented(request.headers()) {
        Some(k) if keys.verify(k) => {
            let caller = Caller::of(k);
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Some(_) => ApiError::unauthorized("the API key is not valid").into_response(),
        None => ApiError::unauthorized(
            "an API key is required: send it in the X-API-Key header (or Authorization: Bearer)",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_verify_in_any_position_and_blank_ones_are_ignored() {
        let keys = ApiKeys::new(ApiKeys::split_list("alpha, beta,,"));
        assert_eq!(keys.len(), 2);
        assert!(keys.verify("alpha") && keys.verify("beta"));
        assert!(!keys.verify("alph") && !keys.verify("alphaa") && !keys.verify(""));
        let file = ApiKeys::new(ApiKeys::split_file("# ops\n\ngamma\n  delta  \n"));
        assert!(file.verify("delta") && !file.verify("# ops"));
        assert_eq!(keys.merged(&file).len(), 4);
        assert!(ApiKeys::default().is_empty());
    }

    #[test]
    fn keys_come_from_either_header() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert("authorization", "Bearer  tok ".parse().unwrap());
        assert_eq!(presented(&h), Some("tok"));
        h.insert("x-api-key", "key".parse().unwrap());
        assert_eq!(presented(&h), Some("key"));
        let mut basic = HeaderMap::new();
        basic.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(presented(&basic), None);
    }
}
