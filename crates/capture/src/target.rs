//! What to capture from: the program's address or a full URL, the duration, request
//! headers, and the timeout that follows from the duration.

use std::fmt;

/// The address the capture dialog offers first.
pub const DEFAULT_ADDRESS: &str = "http://localhost:6060";
/// net/http/pprof's trace endpoint.
pub const PPROF_TRACE_PATH: &str = "/debug/pprof/trace";
/// Seconds allowed on top of the requested duration for connecting, the program's
/// scheduling and the final flush.
pub const TIMEOUT_MARGIN_S: u64 = 30;

/// Which endpoint answers with the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// net/http/pprof's `/debug/pprof/trace?seconds=N` under the program's address.
    PprofTrace {
        /// How long the program traces itself.
        seconds: u32,
    },
    /// A URL of the program's own that answers with a trace (a flight-recorder snapshot
    /// endpoint); fetched as given.
    Custom,
}

/// A request for a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// For `PprofTrace`, the program's address (`http://host:port`, `host:port`, or a URL
    /// already naming `/debug/pprof/trace`); for `Custom`, the whole URL.
    pub address: String,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Request headers (`Authorization: Bearer …`), sent as given.
    pub headers: Vec<(String, String)>,
}

/// A target that cannot be asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadTarget(pub String);

impl fmt::Display for BadTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadTarget {}

impl Target {
    /// The standard pprof endpoint of the program at `address`, for `seconds`.
    pub fn pprof(address: &str, seconds: u32) -> Target {
        Target {
            address: address.trim().to_string(),
            endpoint: Endpoint::PprofTrace { seconds },
            headers: Vec::new(),
        }
    }

    /// What a URL given on the command line asks for: net/http/pprof's trace endpoint
    /// for `seconds` when it names no path, `/`, or a path ending in `/debug/pprof/trace`;
    /// else the URL as it is (a custom endpoint).
    pub fn from_url(url: &str, seconds: u32) -> Target {
        let u = url.trim();
        let rest = u.split_once("://").map_or(u, |(_, r)| r);
        let path = rest.find('/').map_or("", |i| &rest[i..]);
        let path = path.split('?').next().unwrap_or("").trim_end_matches('/');
        if path.is_empty() || path.ends_with(PPROF_TRACE_PATH) {
            Target::pprof(u, seconds)
        } else {
            Target {
                address: u.to_string(),
                endpoint: Endpoint::Custom,
                headers: Vec::new(),
            }
        }
    }

    /// The URL to fetch. A bare `host:port` gets `http://`; for the pprof endpoint a URL
    /// without a path gets `/debug/pprof/trace`, and any `seconds=` it has is replaced.
    pub fn url(&self) -> Result<String, BadTarget> {
        let a = self.address.trim();
        if a.is_empty() {
            return Err(BadTarget("no address given".into()));
        }
        if a.chars().any(char::is_whitespace) {
            return Err(BadTarget(format!("the address {a:?} has spaces in it")));
        }
        let with_scheme = if a.contains("://") {
            if !(a.starts_with("http://") || a.starts_with("https://")) {
                return Err(BadTarget(format!(
                    "the address {a:?} is neither http:// nor https://"
                )));
            }
            a.to_string()
        } else {
            format!("http://{a}")
        };
        match self.endpoint {
            Endpoint::Custom => Ok(with_scheme),
            Endpoint::PprofTrace { seconds } => {
                let after_scheme = with_scheme.find("://").map_or(0, |i| i + 3);
                let (base, query) = match with_scheme.find('?') {
                    Some(i) => (&with_scheme[..i], &with_scheme[i + 1..]),
                    None => (&with_scheme[..], ""),
                };
                let has_path = base[after_scheme..]
                    .find('/')
                    .is_some_and(|i| !base[after_scheme + i..].trim_end_matches('/').is_empty());
                let base = if has_path {
                    base.trim_end_matches('/').to_string()
                } else {
                    format!("{}{PPROF_TRACE_PATH}", base.trim_end_matches('/'))
                };
                let mut params: Vec<&str> = query
                    .split('&')
                    .filter(|p| !p.is_empty() && !p.starts_with("seconds="))
                    .collect();
                let s = format!("seconds={seconds}");
                params.insert(0, &s);
                Ok(format!("{base}?{}", params.join("&")))
            }
        }
    }

    /// How long the whole request may take: the requested duration plus
    /// `TIMEOUT_MARGIN_S` (a custom endpoint answers at once: the margin alone).
    pub fn timeout_s(&self) -> u64 {
        match self.endpoint {
            Endpoint::PprofTrace { seconds } => u64::from(seconds) + TIMEOUT_MARGIN_S,
            Endpoint::Custom => TIMEOUT_MARGIN_S,
        }
    }

    /// The seconds the program is asked to trace (none for a custom endpoint).
    pub fn seconds(&self) -> Option<u32> {
        match self.endpoint {
            Endpoint::PprofTrace { seconds } => Some(seconds),
            Endpoint::Custom => None,
        }
    }
}

/// A header given as `Name: value` (curl's `-H`).
pub fn parse_header(line: &str) -> Result<(String, String), BadTarget> {
    let Some((name, value)) = line.split_once(':') else {
        return Err(BadTarget(format!(
            "the header {line:?} is not `Name: value`"
        )));
    };
    let name = name.trim();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return Err(BadTarget(format!("{name:?} is not a header name")));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// `host:port` of a URL, for messages.
pub fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(address: &str, seconds: u32) -> String {
        Target::pprof(address, seconds).url().unwrap()
    }

    #[test]
    fn the_pprof_url_is_made_from_an_address() {
        let want = "http://localhost:6060/debug/pprof/trace?seconds=5";
        assert_eq!(url("http://localhost:6060", 5), want);
        assert_eq!(url("localhost:6060", 5), want);
        assert_eq!(url(" http://localhost:6060/ ", 5), want);
        assert_eq!(url("http://localhost:6060/debug/pprof/trace", 5), want);
        assert_eq!(
            url("http://localhost:6060/debug/pprof/trace?seconds=9", 5),
            want
        );
        assert_eq!(
            url("https://svc.example/admin/pprof/trace?token=x&seconds=1", 3),
            "https://svc.example/admin/pprof/trace?seconds=3&token=x"
        );
    }

    #[test]
    fn a_custom_url_is_taken_as_it_is() {
        let t = Target {
            address: "localhost:8080/debug/fr?x=1".into(),
            endpoint: Endpoint::Custom,
            headers: vec![],
        };
        assert_eq!(t.url().unwrap(), "http://localhost:8080/debug/fr?x=1");
        assert_eq!(t.timeout_s(), TIMEOUT_MARGIN_S);
    }

    #[test]
    fn a_url_with_a_path_of_its_own_is_a_custom_endpoint() {
        assert_eq!(
            Target::from_url("localhost:6060", 5).endpoint,
            Endpoint::PprofTrace { seconds: 5 }
        );
        assert_eq!(
            Target::from_url("http://h/admin/debug/pprof/trace/?seconds=1", 5).endpoint,
            Endpoint::PprofTrace { seconds: 5 }
        );
        assert_eq!(
            Target::from_url("http://h:1/debug/flightrecorder", 5).endpoint,
            Endpoint::Custom
        );
    }

    #[test]
    fn bad_addresses_are_named() {
        assert!(
            Target::pprof("", 5)
                .url()
                .unwrap_err()
                .0
                .contains("no address")
        );
        assert!(
            Target::pprof("ftp://x", 5)
                .url()
                .unwrap_err()
                .0
                .contains("ftp://x")
        );
        assert!(
            Target::pprof("a b", 5)
                .url()
                .unwrap_err()
                .0
                .contains("spaces")
        );
    }

    #[test]
    fn the_timeout_grows_with_the_seconds() {
        assert_eq!(Target::pprof("x", 5).timeout_s(), 35);
        assert_eq!(Target::pprof("x", 600).timeout_s(), 630);
    }

    #[test]
    fn headers_are_parsed_like_curls() {
        assert_eq!(
            parse_header("Authorization: Bearer abc:def").unwrap(),
            ("Authorization".into(), "Bearer abc:def".into())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
        assert_eq!(host_port("http://127.0.0.1:6060/debug?x"), "127.0.0.1:6060");
    }
}
