//! Webhooks: the job's status JSON, POSTed once the job ends, with a time limit and retries.
//!
//! A webhook makes the server send a request wherever a client says: server-side request
//! forgery. The default policy ([`WebhookPolicy::PublicOnly`]) refuses targets that resolve to
//! loopback, private, link-local (cloud metadata at 169.254.169.254), shared or otherwise
//! non-public addresses, checked when the job is created and again before each delivery, and
//! never follows redirects. A name that resolves to a public address at the check and to a
//! private one at the connection (DNS rebinding) is not caught; where that matters, name the
//! allowed hosts ([`WebhookPolicy::AllowList`]) or turn webhooks off.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::Uri;
use folio_net::{is_public, PublicOnlyResolver};

/// Which webhook targets are allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WebhookPolicy {
    /// Any host whose addresses are all public.
    #[default]
    PublicOnly,
    /// Only these hosts (exact names or IP literals, or `*.example.org` for subdomains), at any
    /// address: the way to reach an internal receiver on purpose.
    AllowList(Vec<String>),
    /// No webhooks: a job that asks for one is refused.
    Disabled,
}

impl std::str::FromStr for WebhookPolicy {
    type Err = String;
    /// `public`, `none`, or a comma-separated host list.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "public" => Ok(WebhookPolicy::PublicOnly),
            "none" | "off" => Ok(WebhookPolicy::Disabled),
            list => {
                let hosts: Vec<String> = list
                    .split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect();
                if hosts.is_empty() {
                    return Err("expected public, none, or a list of hosts".to_string());
                }
                Ok(WebhookPolicy::AllowList(hosts))
            }
        }
    }
}

/// A webhook target that passed the checks that need no network.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub url: String,
    host: String,
}

impl WebhookPolicy {
    /// Checks a `webhook_url` when the job is created.
    pub(crate) fn check_url(&self, url: &str) -> Result<Target, String> {
        if *self == WebhookPolicy::Disabled {
            return Err("webhooks are turned off on this server".to_string());
        }
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("webhook_url {url:?} is not a URL: {e}"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(format!("webhook_url {url:?} must be http or https"));
        }
        let host = uri
            .host()
            .ok_or_else(|| format!("webhook_url {url:?} has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(format!("webhook_url {url:?} must not carry credentials"));
        }
        let target = Target {
            url: url.to_string(),
            host,
        };
        match self {
            WebhookPolicy::AllowList(hosts) => {
                if !hosts.iter().any(|h| host_matches(h, &target.host)) {
                    return Err(format!(
                        "webhook host {:?} is not in this server's allowed list",
                        target.host
                    ));
                }
            }
            _ => {
                if let Ok(ip) = target.host.parse::<IpAddr>() {
                    if !is_public(ip) {
                        return Err(format!(
                            "webhook_url {url:?} points at a non-public address"
                        ));
                    }
                }
            }
        }
        Ok(target)
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|rest| rest.ends_with('.')),
        None => pattern == host,
    }
}

/// Delivery attempts and the waits between them.
const WAITS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];

/// POSTs `body` to the target, up to three times; blocks. `Ok` once a 2xx answer came.
pub(crate) fn deliver(
    policy: &WebhookPolicy,
    target: &Target,
    job_id: &str,
    body: &[u8],
) -> Result<(), String> {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A redirect could lead anywhere, past the checks above; a proxy would connect to
        // addresses other than the ones checked.
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build();
    // Under the public-only policy the addresses are checked where the connection is made, on
    // every attempt: a name can resolve elsewhere between a check and a connect (DNS rebinding).
    let guard = (*policy == WebhookPolicy::PublicOnly).then(PublicOnlyResolver::new);
    let agent = match &guard {
        Some(resolver) => resolver.agent(config),
        None => config.into(),
    };
    let mut last = String::new();
    for attempt in 0..=WAITS.len() {
        if attempt > 0 {
            std::thread::sleep(WAITS[attempt - 1]);
        }
        let sent = agent
            .post(&target.url)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("folio-server/", env!("CARGO_PKG_VERSION")),
            )
            .header("x-folio-job", job_id)
            .send(body);
        match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status().as_u16()),
            Err(e) => {
                if let Some(refused) = guard.as_ref().and_then(PublicOnlyResolver::refused) {
                    return Err(format!("webhook host is not public: {refused}"));
                }
                last = e.to_string();
            }
        }
        tracing::info!(job = job_id, attempt = attempt + 1, error = %last, "webhook delivery failed");
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_only_refuses_internal_targets() {
        let p = WebhookPolicy::PublicOnly;
        assert!(p.check_url("https://hooks.example.com/x").is_ok());
        for bad in [
            "http://127.0.0.1:9/x",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://100.64.0.1/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "http://user:pw@example.com/",
            "not a url",
        ] {
            assert!(p.check_url(bad).is_err(), "{bad}");
        }
        let localhost = p.check_url("http://localhost:1/").unwrap();
        let refused = deliver(&p, &localhost, "job", b"{}").unwrap_err();
        assert!(refused.contains("not public"), "{refused}");
    }

    #[test]
    fn allow_lists_match_exact_hosts_and_subdomains() {
        let p: WebhookPolicy = "127.0.0.1, *.corp.example".parse().unwrap();
        assert!(p.check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(p.check_url("https://a.corp.example/h").is_ok());
        assert!(p.check_url("https://corp.example/h").is_err());
        assert!(p.check_url("https://evilcorp.example/h").is_err());
        assert!(p.check_url("http://10.0.0.1/").is_err());
        let off: WebhookPolicy = "none".parse().unwrap();
        assert!(off.check_url("https://example.com/").is_err());
    }
}
