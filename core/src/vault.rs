//! **OpenBao / HashiCorp Vault** (feature `vault`): a transit key as the
//! root of a keyring file (FORMAT.md 10.3, `root_kind` 5), so the key that
//! protects the keyring never sits unwrapped on the instances' disks.
//!
//! Configuration follows the ecosystem: [`VaultConfig::from_env`] reads
//! `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE` and `VAULT_CACERT` (or
//! their `BAO_` forms, which win when both are set), and a token file
//! (`VAULT_TOKEN_FILE`, the agent's sink) or an AppRole login. TLS is
//! verified (rustls, the Mozilla roots or the given CA); plain `http://` is
//! refused unless the server is on a loopback address. Every request has a
//! timeout and a bounded number of retries, and every error names the
//! server and the operation, never the token.
//!
//! [`KvStore`] keeps the sealed keyring itself in a KV v2 secret, shared
//! by every instance, with check-and-set updates.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keyring::Keyring;
use crate::root::{KeyProvider, RootKind};
use crate::secret::{KEY_LEN, KeyMaterial};

/// Default time for one request, connect to last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default retries after a failed attempt (so three attempts in all).
pub const DEFAULT_RETRIES: u32 = 2;
/// The most a response body may hold (Vault's answers here are small).
const MAX_RESPONSE: u64 = 1 << 20;

/// Where the server is and how to authenticate. `Debug` never shows the
/// token or the secret id.
#[derive(Clone)]
pub struct VaultConfig {
    address: String,
    token: Option<Zeroizing<String>>,
    token_file: Option<PathBuf>,
    approle: Option<(String, PathBuf)>,
    approle_mount: String,
    namespace: Option<String>,
    ca_cert: Option<PathBuf>,
    timeout: Duration,
    retries: u32,
}

impl fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultConfig")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_file", &self.token_file)
            .field("approle_role_id", &self.approle.as_ref().map(|a| &a.0))
            .field("namespace", &self.namespace)
            .field("ca_cert", &self.ca_cert)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish()
    }
}

/// The value of the first of `names` that is set and not empty.
fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

impl VaultConfig {
    /// A server at `address` (`https://host:8200`, or `http://` on a
    /// loopback address), with no credentials yet.
    pub fn new(address: &str) -> Self {
        Self {
            address: address.trim_end_matches('/').into(),
            token: None,
            token_file: None,
            approle: None,
            approle_mount: "approle".into(),
            namespace: None,
            ca_cert: None,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
        }
    }

    /// From the environment: the address from `BAO_ADDR` or `VAULT_ADDR`;
    /// a token from `BAO_TOKEN`/`VAULT_TOKEN`, else from the file named by
    /// `BAO_TOKEN_FILE`/`VAULT_TOKEN_FILE`, else an AppRole login with
    /// `BAO_ROLE_ID`/`VAULT_ROLE_ID` and the file named by
    /// `BAO_SECRET_ID_FILE`/`VAULT_SECRET_ID_FILE`; the namespace from
    /// `BAO_NAMESPACE`/`VAULT_NAMESPACE`; a CA bundle from
    /// `BAO_CACERT`/`VAULT_CACERT`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when no address is set.
    pub fn from_env() -> Result<Self> {
        let address = env_first(&["BAO_ADDR", "VAULT_ADDR"]).ok_or(Error::InvalidArgument {
            reason: "no Vault address: set VAULT_ADDR (or BAO_ADDR)",
        })?;
        let mut c = Self::new(&address);
        c.token = env_first(&["BAO_TOKEN", "VAULT_TOKEN"]).map(Zeroizing::new);
        c.token_file = env_first(&["BAO_TOKEN_FILE", "VAULT_TOKEN_FILE"]).map(PathBuf::from);
        if let (Some(role), Some(file)) = (
            env_first(&["BAO_ROLE_ID", "VAULT_ROLE_ID"]),
            env_first(&["BAO_SECRET_ID_FILE", "VAULT_SECRET_ID_FILE"]),
        ) {
            c.approle = Some((role, PathBuf::from(file)));
        }
        c.namespace = env_first(&["BAO_NAMESPACE", "VAULT_NAMESPACE"]);
        c.ca_cert = env_first(&["BAO_CACERT", "VAULT_CACERT"]).map(PathBuf::from);
        Ok(c)
    }

    /// Authenticates with this token.
    #[must_use]
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(Zeroizing::new(token.into()));
        self
    }

    /// Reads the token from this file (first line), as written by an
    /// agent's file sink; read at connect time.
    #[must_use]
    pub fn with_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token_file = Some(path.into());
        self
    }

    /// Logs in with AppRole (`auth/approle/login`): the role id and a file
    /// holding the secret id (first line).
    #[must_use]
    pub fn with_approle(mut self, role_id: &str, secret_id_file: impl Into<PathBuf>) -> Self {
        self.approle = Some((role_id.into(), secret_id_file.into()));
        self
    }

    /// The namespace (Vault Enterprise, OpenBao namespaces).
    #[must_use]
    pub fn with_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Verifies the server against this PEM bundle instead of the Mozilla
    /// roots.
    #[must_use]
    pub fn with_ca_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_cert = Some(path.into());
        self
    }

    /// The time one request may take, and the retries after a failure
    /// that may be temporary (no connection, a timeout, HTTP 429 or 5xx).
    #[must_use]
    pub fn with_timeouts(mut self, timeout: Duration, retries: u32) -> Self {
        self.timeout = timeout;
        self.retries = retries.min(10);
        self
    }

    /// The server's address.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// What went wrong talking to the server. Every message names the server
/// and the operation; none holds the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VaultError {
    /// No answer: connection refused, DNS, TLS, or a timeout.
    Unreachable {
        /// The server.
        server: String,
        /// The operation (`transit/decrypt/<key>`, ...).
        operation: String,
        /// What the transport said.
        detail: String,
    },
    /// The server is sealed (HTTP 503).
    Sealed {
        /// The server.
        server: String,
        /// The operation.
        operation: String,
    },
    /// The token may not do this (HTTP 403): a wrong or expired token, or
    /// a policy without the path.
    PermissionDenied {
        /// The server.
        server: String,
        /// The operation.
        operation: String,
    },
    /// Nothing at the path (HTTP 404), or a transit key that does not
    /// exist.
    NotFound {
        /// The server.
        server: String,
        /// The operation.
        operation: String,
    },
    /// A check-and-set write lost: another instance wrote the KV secret
    /// first (after [`MAX_CAS_ATTEMPTS`] in an update, or at once in a
    /// create).
    CasConflict {
        /// The server.
        server: String,
        /// The operation.
        operation: String,
    },
    /// Any other refusal, with the server's own message.
    Server {
        /// The server.
        server: String,
        /// The operation.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// The server's `errors`, joined.
        message: String,
    },
    /// The configuration cannot work (no credentials, `http://` to a
    /// remote host, an unreadable CA or token file).
    Config {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable {
                server,
                operation,
                detail,
            } => write!(f, "vault {server}: {operation}: unreachable ({detail})"),
            Self::Sealed { server, operation } => {
                write!(f, "vault {server}: {operation}: the server is sealed")
            }
            Self::PermissionDenied { server, operation } => write!(
                f,
                "vault {server}: {operation}: permission denied (check the token and its policy)"
            ),
            Self::NotFound { server, operation } => {
                write!(f, "vault {server}: {operation}: not found")
            }
            Self::CasConflict { server, operation } => write!(
                f,
                "vault {server}: {operation}: check-and-set conflict (another instance wrote first)"
            ),
            Self::Server {
                server,
                operation,
                status,
                message,
            } => write!(f, "vault {server}: {operation}: HTTP {status}: {message}"),
            Self::Config { reason } => write!(f, "vault configuration: {reason}"),
        }
    }
}

impl From<VaultError> for Error {
    fn from(e: VaultError) -> Self {
        Error::KeyProvider {
            message: e.to_string(),
        }
    }
}

/// Whether `host` (from an address) is a loopback address.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<core::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host part of `scheme://host[:port][/...]`.
fn host_of(rest: &str) -> &str {
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// The first line of a file, for a token or a secret id.
fn first_line(path: &Path, what: &str) -> core::result::Result<Zeroizing<String>, VaultError> {
    let raw = Zeroizing::new(std::fs::read(path).map_err(|e| VaultError::Config {
        reason: alloc::format!("cannot read the {what} file {}: {e}", path.display()),
    })?);
    let text = core::str::from_utf8(&raw).map_err(|_| VaultError::Config {
        reason: alloc::format!("the {what} file {} is not UTF-8", path.display()),
    })?;
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return Err(VaultError::Config {
            reason: alloc::format!("the {what} file {} is empty", path.display()),
        });
    }
    Ok(Zeroizing::new(line.into()))
}

/// A connection to one server: an HTTP agent and the token.
pub struct Vault {
    agent: ureq::Agent,
    config: VaultConfig,
    token: Mutex<Zeroizing<String>>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("address", &self.config.address)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Checks the configuration and obtains a token (the configured one,
    /// the token file's, or an AppRole login). Nothing else is sent.
    ///
    /// # Errors
    /// [`VaultError::Config`], or the login's error.
    pub fn connect(config: VaultConfig) -> core::result::Result<Self, VaultError> {
        let config_err = |reason: &str| VaultError::Config {
            reason: reason.into(),
        };
        let address = config.address.clone();
        if let Some(rest) = address.strip_prefix("http://") {
            if !is_loopback(host_of(rest)) {
                return Err(config_err(
                    "plain http:// is allowed only to a loopback address; use https://",
                ));
            }
        } else if !address.starts_with("https://") {
            return Err(config_err(
                "the address must start with https:// (or http:// on loopback)",
            ));
        }
        let roots = match &config.ca_cert {
            None => ureq::tls::RootCerts::WebPki,
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| VaultError::Config {
                    reason: alloc::format!("cannot read the CA file {}: {e}", path.display()),
                })?;
                let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                if certs.is_empty() {
                    return Err(VaultError::Config {
                        reason: alloc::format!("no certificate in the CA file {}", path.display()),
                    });
                }
                ureq::tls::RootCerts::Specific(Arc::new(certs))
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            .build()
            .into();
        let vault = Self {
            agent,
            config,
            token: Mutex::new(Zeroizing::new(String::new())),
        };
        let token = if let Some(t) = &vault.config.token {
            t.clone()
        } else if let Some(path) = &vault.config.token_file {
            first_line(path, "token")?
        } else if let Some((role, file)) = &vault.config.approle {
            vault.approle_login(role, file)?
        } else {
            return Err(config_err(
                "no credentials: set VAULT_TOKEN, VAULT_TOKEN_FILE, or VAULT_ROLE_ID with VAULT_SECRET_ID_FILE",
            ));
        };
        *vault.token.lock().unwrap_or_else(|p| p.into_inner()) = token;
        Ok(vault)
    }

    /// The server's address.
    pub fn address(&self) -> &str {
        &self.config.address
    }

    fn approle_login(
        &self,
        role_id: &str,
        secret_id_file: &Path,
    ) -> core::result::Result<Zeroizing<String>, VaultError> {
        let secret_id = first_line(secret_id_file, "secret id")?;
        let plain = |s: &str| !s.contains(['"', '\\']) && !s.chars().any(char::is_control);
        if !plain(role_id) || !plain(&secret_id) {
            return Err(VaultError::Config {
                reason: "a role id or secret id with quotes, backslashes or control characters"
                    .into(),
            });
        }
        let mut body = Zeroizing::new(String::new());
        body.push_str("{\"role_id\":\"");
        body.push_str(role_id);
        body.push_str("\",\"secret_id\":\"");
        body.push_str(&secret_id);
        body.push_str("\"}");
        let path = alloc::format!("auth/{}/login", self.config.approle_mount);
        let answer = self.send("approle login", &path, Some(body.as_bytes()), false)?;
        let token =
            string_field(&answer, "client_token").ok_or_else(|| self.malformed("approle login"))?;
        Ok(token)
    }

    fn malformed(&self, operation: &str) -> VaultError {
        VaultError::Server {
            server: self.config.address.clone(),
            operation: operation.into(),
            status: 200,
            message: "the answer is not what the API documents".into(),
        }
    }

    /// POSTs `body` (or GETs with `None`) to `/v1/<path>`, with retries
    /// for what may be temporary; the answer's body, in a wiping buffer.
    fn send(
        &self,
        operation: &str,
        path: &str,
        body: Option<&[u8]>,
        with_token: bool,
    ) -> core::result::Result<Zeroizing<Vec<u8>>, VaultError> {
        let url = alloc::format!("{}/v1/{path}", self.config.address);
        let server = || self.config.address.clone();
        let mut attempt = 0;
        loop {
            let result = self.attempt(&url, body, with_token);
            let retry = match &result {
                Err(_) => true,
                Ok((status, _)) => *status == 429 || (*status >= 500 && *status != 501),
            };
            if retry && attempt < self.config.retries {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(100 << attempt.min(4)));
                continue;
            }
            let (status, answer) = result.map_err(|detail| VaultError::Unreachable {
                server: server(),
                operation: operation.into(),
                detail,
            })?;
            return match status {
                200..=299 => Ok(answer),
                403 => Err(VaultError::PermissionDenied {
                    server: server(),
                    operation: operation.into(),
                }),
                404 => Err(VaultError::NotFound {
                    server: server(),
                    operation: operation.into(),
                }),
                503 if errors_of(&answer).contains("sealed") => Err(VaultError::Sealed {
                    server: server(),
                    operation: operation.into(),
                }),
                _ => Err(VaultError::Server {
                    server: server(),
                    operation: operation.into(),
                    status,
                    message: errors_of(&answer),
                }),
            };
        }
    }

    /// One request: the status and body, or the transport's error text
    /// (which never holds a header, so never the token).
    fn attempt(
        &self,
        url: &str,
        body: Option<&[u8]>,
        with_token: bool,
    ) -> core::result::Result<(u16, Zeroizing<Vec<u8>>), String> {
        let token = if with_token {
            self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
        } else {
            Zeroizing::new(String::new())
        };
        let namespace = self.config.namespace.clone().unwrap_or_default();
        let response = match body {
            Some(b) => {
                let mut req = self
                    .agent
                    .post(url)
                    .header("Content-Type", "application/json");
                if with_token {
                    req = req.header("X-Vault-Token", token.as_str());
                }
                if !namespace.is_empty() {
                    req = req.header("X-Vault-Namespace", namespace.as_str());
                }
                req.send(b)
            }
            None => {
                let mut req = self.agent.get(url);
                if with_token {
                    req = req.header("X-Vault-Token", token.as_str());
                }
                if !namespace.is_empty() {
                    req = req.header("X-Vault-Namespace", namespace.as_str());
                }
                req.call()
            }
        };
        let mut response = response.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let mut buf = Zeroizing::new(Vec::new());
        std::io::Read::read_to_end(
            &mut response
                .body_mut()
                .with_config()
                .limit(MAX_RESPONSE)
                .reader(),
            &mut buf,
        )
        .map_err(|e| e.to_string())?;
        Ok((status, buf))
    }
}

/// The server's `errors` list, joined (not secret).
fn errors_of(answer: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(answer)
        .ok()
        .and_then(|v| {
            v.get("errors").and_then(|e| e.as_array()).map(|list| {
                list.iter()
                    .filter_map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "no message".into())
}

/// A string field anywhere under `data` or `auth` of an answer, read
/// without copies outside a wiping buffer: the field's value is plain
/// base64 or a token (no escapes), found by its quoted name.
fn string_field(answer: &[u8], name: &str) -> Option<Zeroizing<String>> {
    let needle = alloc::format!("\"{name}\":\"");
    let start = answer
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())?
        + needle.len();
    let len = answer[start..].iter().position(|&b| b == b'"')?;
    let value = &answer[start..start + len];
    if value.contains(&b'\\') {
        return None;
    }
    core::str::from_utf8(value)
        .ok()
        .map(|s| Zeroizing::new(s.to_string()))
}

/// Mount paths and key names as FORMAT.md 10.3 allows them.
fn check_name(name: &str, slashes: bool) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('/')
        && !name.ends_with('/')
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') || (slashes && b == b'/')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            reason: "transit mounts and key names are 1 to 255 ASCII letters, digits, '-', '_', '.' (and '/' inside a mount)",
        })
    }
}

/// A transit key as a keyring root (FORMAT.md 10.3, `root_kind` 5).
#[derive(Debug, Clone)]
pub struct TransitRoot {
    vault: Arc<Vault>,
    mount: String,
    key: String,
}

impl TransitRoot {
    /// The key `key` of the transit engine mounted at `mount` (usually
    /// `transit`). New seals use it; opening uses the key the file names.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad mount or key name.
    pub fn new(vault: Arc<Vault>, mount: &str, key: &str) -> Result<Self> {
        check_name(mount, true)?;
        check_name(key, false)?;
        Ok(Self {
            vault,
            mount: mount.into(),
            key: key.into(),
        })
    }

    /// The transit key's name.
    pub fn key_name(&self) -> &str {
        &self.key
    }

    /// The mount and key named by a file's `params` (FORMAT.md 10.3).
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn parse_params(params: &[u8]) -> Result<(String, String)> {
        let bad = || Error::Malformed {
            reason: "transit root parameters are not two length-prefixed names",
        };
        let (&m, rest) = params.split_first().ok_or_else(bad)?;
        let mount = rest.get(..m.into()).ok_or_else(bad)?;
        let rest = &rest[m.into()..];
        let (&k, rest) = rest.split_first().ok_or_else(bad)?;
        if rest.len() != usize::from(k) {
            return Err(bad());
        }
        let mount = core::str::from_utf8(mount).map_err(|_| bad())?;
        let key = core::str::from_utf8(rest).map_err(|_| bad())?;
        check_name(mount, true).map_err(|_| bad())?;
        check_name(key, false).map_err(|_| bad())?;
        Ok((mount.into(), key.into()))
    }

    /// The key's newest version, read from `<mount>/keys/<key>`.
    ///
    /// # Errors
    /// The server's errors.
    pub fn latest_version(&self) -> Result<u32> {
        let op = alloc::format!("{}/keys/{}", self.mount, self.key);
        let answer = self.vault.send(&op, &op, None, true)?;
        let v: serde_json::Value =
            serde_json::from_slice(&answer).map_err(|_| self.vault.malformed(&op))?;
        v.pointer("/data/latest_version")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| self.vault.malformed(&op).into())
    }

    fn call(&self, what: &str, mount: &str, key: &str, body: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let op = alloc::format!("{mount}/{what}/{key}");
        Ok(self.vault.send(&op, &op, Some(body), true)?)
    }
}

/// FORMAT.md 10.3: `wrapped` starts with `vault:v`, and every byte is
/// printable ASCII (0x21 to 0x7E) other than `"` and `\`.
fn is_transit_ciphertext(c: &str) -> bool {
    c.starts_with("vault:v")
        && c.bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

impl KeyProvider for TransitRoot {
    fn root_kind(&self) -> RootKind {
        RootKind::VaultTransit
    }

    fn new_params(&self, _random: &[u8; 16]) -> Result<Vec<u8>> {
        // Both at most 255 bytes (checked in `new`).
        let mut out = Vec::with_capacity(2 + self.mount.len() + self.key.len());
        out.push(self.mount.len() as u8);
        out.extend_from_slice(self.mount.as_bytes());
        out.push(self.key.len() as u8);
        out.extend_from_slice(self.key.as_bytes());
        Ok(out)
    }

    fn wrap(
        &self,
        params: &[u8],
        key: &KeyMaterial,
        aad: &[u8],
        _nonce: &[u8; 24],
    ) -> Result<Vec<u8>> {
        let (mount, name) = Self::parse_params(params)?;
        let plaintext = Zeroizing::new(Base64::encode_string(key.expose_secret()));
        let mut body = Zeroizing::new(String::with_capacity(plaintext.len() + aad.len() * 2 + 64));
        body.push_str("{\"plaintext\":\"");
        body.push_str(&plaintext);
        body.push_str("\",\"associated_data\":\"");
        body.push_str(&Base64::encode_string(aad));
        body.push_str("\"}");
        let answer = self.call("encrypt", &mount, &name, body.as_bytes())?;
        let ciphertext = string_field(&answer, "ciphertext")
            .filter(|c| is_transit_ciphertext(c))
            .ok_or_else(|| Error::from(self.vault.malformed("transit encrypt")))?;
        Ok(ciphertext.as_bytes().to_vec())
    }

    fn unwrap(&self, params: &[u8], wrapped: &[u8], aad: &[u8]) -> Result<KeyMaterial> {
        let (mount, name) = Self::parse_params(params)?;
        let ciphertext = core::str::from_utf8(wrapped)
            .ok()
            .filter(|c| is_transit_ciphertext(c))
            .ok_or(Error::Malformed {
                reason: "a transit-wrapped key is printable ASCII starting with \"vault:v\"",
            })?;
        let body = alloc::format!(
            "{{\"ciphertext\":\"{ciphertext}\",\"associated_data\":\"{}\"}}",
            Base64::encode_string(aad)
        );
        let answer = match self.call("decrypt", &mount, &name, body.as_bytes()) {
            Ok(a) => a,
            // The engine's AEAD refused: another file's key, or tampering.
            Err(Error::KeyProvider { message })
                if message.contains("message authentication failed") =>
            {
                return Err(Error::AuthenticationFailed);
            }
            Err(e) => return Err(e),
        };
        let plaintext = string_field(&answer, "plaintext")
            .ok_or_else(|| Error::from(self.vault.malformed("transit decrypt")))?;
        let mut bytes = Zeroizing::new([0u8; KEY_LEN + 3]);
        let not_a_key = Error::Malformed {
            reason: "the transit engine's plaintext is not a 32-byte key",
        };
        let decoded =
            Base64::decode(plaintext.as_bytes(), &mut bytes[..]).map_err(|_| not_a_key.clone())?;
        if decoded.len() != KEY_LEN {
            return Err(not_a_key);
        }
        KeyMaterial::from_slice(decoded)
    }
}

/// The keyring of N instances in a KV v2 secret (issue #16): the sealed
/// keyring file's bytes (FORMAT.md 10) at `<mount>/data/<path>`, field
/// `keyring` (standard base64). Every update is a check-and-set write on
/// the KV version it read, retried from a fresh read when another instance
/// wrote first, so concurrent updates never lose one. The file's own
/// generation is the KV version it is written as, and a load refuses a
/// keyring whose generation is not the version it was read at: an old
/// keyring written back as a new version is a rollback, never accepted
/// silently.
pub struct KvStore {
    vault: Arc<Vault>,
    mount: String,
    path: String,
    root: Arc<dyn KeyProvider>,
    audit: std::sync::RwLock<Option<Arc<crate::audit::AuditContext>>>,
}

impl fmt::Debug for KvStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvStore")
            .field("server", &self.vault.address())
            .field("mount", &self.mount)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The most check-and-set attempts of one update before it gives up.
pub const MAX_CAS_ATTEMPTS: u32 = 64;

impl KvStore {
    /// The keyring at `<mount>/data/<path>` of a KV v2 engine (usually
    /// mount `secret`), sealed by `root` (a [`TransitRoot`] keeps every key
    /// off the instances).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad mount or path.
    pub fn new(
        vault: Arc<Vault>,
        mount: &str,
        path: &str,
        root: Arc<dyn KeyProvider>,
    ) -> Result<Self> {
        check_name(mount, true)?;
        check_name(path, true)?;
        Ok(Self {
            vault,
            mount: mount.into(),
            path: path.into(),
            root,
            audit: std::sync::RwLock::new(None),
        })
    }

    /// The keyring at `<mount>/data/<path>`, sealed by the transit key its
    /// newest version names (FORMAT.md 10.3): what an instance opens with
    /// nothing but the server's address and its credentials.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the keyring there is sealed by
    /// another root than a transit key; as [`KvStore::inspect`].
    pub fn open_transit(vault: Arc<Vault>, mount: &str, path: &str) -> Result<Self> {
        check_name(mount, true)?;
        check_name(path, true)?;
        let (info, _) = Self::inspect(&vault, mount, path)?;
        if info.root_kind != RootKind::VaultTransit {
            return Err(Error::InvalidArgument {
                reason: "the keyring in this KV secret is not sealed by a Vault transit key",
            });
        }
        let (transit_mount, key) = TransitRoot::parse_params(&info.root_params)?;
        let root = TransitRoot::new(vault.clone(), &transit_mount, &key)?;
        Self::new(vault, mount, path, Arc::new(root))
    }

    /// Attaches an audit context to every keyring this store loads.
    pub fn set_audit(&mut self, audit: Arc<crate::audit::AuditContext>) {
        self.set_audit_shared(Some(audit));
    }

    pub(crate) fn set_audit_shared(&self, audit: Option<Arc<crate::audit::AuditContext>>) {
        *self
            .audit
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = audit;
    }

    fn audit(&self) -> Option<Arc<crate::audit::AuditContext>> {
        self.audit
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn data_op(&self) -> String {
        alloc::format!("{}/data/{}", self.mount, self.path)
    }

    /// Writes `keyring` as KV version `cas + 1`, only if the secret is at
    /// version `cas` (0: does not exist yet).
    fn write(&self, keyring: &Keyring, keyring_id: [u8; 16], cas: u64) -> Result<u64> {
        let generation = cas + 1;
        let bytes = crate::keyring_file::encrypt_as(
            keyring,
            self.root.as_ref(),
            crate::keyring_file::Lineage {
                keyring_id,
                generation,
            },
            &mut getrandom::SysRng,
        )?;
        let body = serde_json::json!({
            "options": {"cas": cas},
            "data": {"keyring": Base64::encode_string(&bytes), "format": "strongroom-keyring-file"},
        })
        .to_string();
        let op = self.data_op();
        match self.vault.send(&op, &op, Some(body.as_bytes()), true) {
            Ok(answer) => {
                let v: serde_json::Value =
                    serde_json::from_slice(&answer).map_err(|_| self.vault.malformed(&op))?;
                let version = v
                    .pointer("/data/version")
                    .and_then(serde_json::Value::as_u64)
                    .ok_or_else(|| self.vault.malformed(&op))?;
                if version != generation {
                    return Err(self.vault.malformed(&op).into());
                }
                Ok(version)
            }
            Err(VaultError::Server { message, .. }) if message.contains("check-and-set") => {
                Err(VaultError::CasConflict {
                    server: self.vault.address().into(),
                    operation: op,
                }
                .into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Creates the secret with `keyring`, refusing if it exists.
    ///
    /// # Errors
    /// A check-and-set conflict when the secret exists; the server's and
    /// the root's errors.
    pub fn create(&self, keyring: &Keyring) -> Result<u64> {
        let mut id = [0u8; 16];
        rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut id)
            .map_err(|_| Error::RandomnessUnavailable)?;
        self.write(keyring, id, 0)
    }

    /// The newest version's public facts (root kind and parameters,
    /// lineage) without opening it, and its KV version: what a caller
    /// needs to build the root that opens it.
    ///
    /// # Errors
    /// As [`KvStore::load_versioned`], less the root's.
    pub fn inspect(
        vault: &Vault,
        mount: &str,
        path: &str,
    ) -> Result<(crate::keyring_file::KeyringFileInfo, u64)> {
        let op = alloc::format!("{mount}/data/{path}");
        let (bytes, version) = Self::fetch(vault, &op)?;
        Ok((crate::keyring_file::inspect(&bytes)?, version))
    }

    /// The sealed keyring's bytes and the KV version, from `op`.
    fn fetch(vault: &Vault, op: &str) -> Result<(Vec<u8>, u64)> {
        let answer = vault.send(op, op, None, true)?;
        let v: serde_json::Value =
            serde_json::from_slice(&answer).map_err(|_| vault.malformed(op))?;
        let version = v
            .pointer("/data/metadata/version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| vault.malformed(op))?;
        let blob = v
            .pointer("/data/data/keyring")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| vault.malformed(op))?;
        let bytes = Base64::decode_vec(blob).map_err(|_| vault.malformed(op))?;
        Ok((bytes, version))
    }

    /// Reads the newest version: the keyring, its lineage, and the KV
    /// version (equal to the lineage's generation). With an audit context,
    /// emits `keyring_opened`.
    ///
    /// # Errors
    /// Not found for a missing path; a rollback (`Error::Malformed`
    /// naming it) when the keyring's generation is not its KV version;
    /// the server's and the root's errors.
    pub fn load_versioned(&self) -> Result<(Keyring, crate::keyring_file::Lineage)> {
        let result = self.load_quiet();
        let audit = self.audit();
        if let Some(audit) = &audit {
            audit.emit(
                crate::audit::AuditAction::KeyringOpened,
                crate::audit::AuditObject::Keyring,
                None,
                None,
                result.as_ref().err().map(Error::kind),
            );
        }
        let (mut keyring, lineage) = result?;
        if let Some(audit) = &audit {
            keyring.set_audit(audit.clone());
        }
        Ok((keyring, lineage))
    }

    fn load_quiet(&self) -> Result<(Keyring, crate::keyring_file::Lineage)> {
        let (bytes, version) = Self::fetch(&self.vault, &self.data_op())?;
        let (keyring, lineage) = crate::keyring_file::open(&bytes, self.root.as_ref())?;
        let lineage = lineage.ok_or(Error::Malformed {
            reason: "a KV keyring must be a version-2 file (it carries its generation)",
        })?;
        if lineage.generation != version {
            return Err(Error::Malformed {
                reason: "rollback: the keyring in this KV version was saved as another version (an old keyring written back)",
            });
        }
        Ok((keyring, lineage))
    }

    /// The newest keyring.
    ///
    /// # Errors
    /// As [`KvStore::load_versioned`].
    pub fn load(&self) -> Result<Keyring> {
        self.load_versioned().map(|(k, _)| k)
    }

    /// The secret's newest KV version, from its metadata (no keyring is
    /// read or opened): what a reload checks first.
    ///
    /// # Errors
    /// Not found for a missing path; the server's errors.
    pub fn current_version(&self) -> Result<u64> {
        let op = alloc::format!("{}/metadata/{}", self.mount, self.path);
        let answer = self.vault.send(&op, &op, None, true)?;
        let v: serde_json::Value =
            serde_json::from_slice(&answer).map_err(|_| self.vault.malformed(&op))?;
        v.pointer("/data/current_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| self.vault.malformed(&op).into())
    }

    /// Where the keyring is, as `<mount>/data/<path>` (for messages).
    pub fn location(&self) -> String {
        self.data_op()
    }

    /// Reads the newest keyring, applies `change`, and writes it as the
    /// next KV version with check-and-set; when another instance wrote
    /// first, reads again and reapplies `change`, up to
    /// [`MAX_CAS_ATTEMPTS`] times. `change` may run more than once.
    ///
    /// Audit events that `change` causes are held back until the write: a
    /// written change logs them as they happened, a failed write logs them
    /// as failures, and an attempt lost to another instance logs nothing
    /// (its change runs again).
    ///
    /// # Errors
    /// `change`'s error (nothing written); the conflict after the last
    /// attempt; the server's and the root's errors.
    pub fn update<T>(&self, change: impl FnMut(&mut Keyring) -> Result<T>) -> Result<T> {
        self.update_keyring(change)
            .map(|(out, _, _)| out)
            .map_err(|e| match e {
                crate::store::StoreError::Rejected(e) | crate::store::StoreError::Remote(e) => e,
                other => Error::KeyProvider {
                    message: other.to_string(),
                },
            })
    }

    /// As [`KvStore::update`], with `change`'s errors
    /// ([`StoreError::Rejected`](crate::store::StoreError::Rejected)) apart
    /// from the store's
    /// ([`StoreError::Remote`](crate::store::StoreError::Remote)), also
    /// returning the keyring as written and its lineage.
    pub(crate) fn update_keyring<T>(
        &self,
        mut change: impl FnMut(&mut Keyring) -> Result<T>,
    ) -> core::result::Result<(T, Keyring, crate::keyring_file::Lineage), crate::store::StoreError>
    {
        use crate::store::StoreError;
        let mut attempt = 0;
        loop {
            let (mut keyring, lineage) = self.load_versioned().map_err(StoreError::Remote)?;
            let held = Arc::new(crate::audit::HoldingSink::default());
            let audit = self.audit();
            if let Some(audit) = &audit {
                let clock = audit.clone();
                keyring.set_audit(crate::audit::AuditContext::new(held.clone(), move || {
                    clock.now()
                }));
            }
            // `written` is `Err(None)` when `change` refused (nothing was
            // sent).
            let changed = change(&mut keyring);
            let written = match &changed {
                Ok(_) => self
                    .write(&keyring, lineage.keyring_id, lineage.generation)
                    .map_err(Some),
                Err(_) => Err(None),
            };
            let lost = matches!(
                &written,
                Err(Some(Error::KeyProvider { message }))
                    if message.contains("check-and-set conflict") && attempt + 1 < MAX_CAS_ATTEMPTS
            );
            if let Some(audit) = &audit {
                let events = held.take();
                if !lost {
                    let failure = match &written {
                        Err(Some(e)) => Some(e.kind()),
                        _ => None,
                    };
                    for event in events {
                        event.replay(audit, failure);
                    }
                }
                keyring.set_audit(audit.clone());
            } else {
                keyring.clear_audit();
            }
            if lost {
                attempt += 1;
                // A short, growing, jittered pause before reading again.
                let mut b = [0u8; 1];
                let _ = rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut b);
                std::thread::sleep(Duration::from_millis(
                    u64::from(b[0] % 8) + u64::from(attempt.min(8)) * 2,
                ));
                continue;
            }
            let out = changed.map_err(StoreError::Rejected)?;
            return match written {
                Ok(version) => Ok((
                    out,
                    keyring,
                    crate::keyring_file::Lineage {
                        keyring_id: lineage.keyring_id,
                        generation: version,
                    },
                )),
                Err(e) => Err(StoreError::Remote(e.unwrap_or(Error::KeyProvider {
                    message: self.location(),
                }))),
            };
        }
    }

    /// Destroys (irrecoverably, `<mount>/destroy/<path>`) every KV version
    /// but the newest, so key material destroyed in the keyring is gone
    /// from the engine's history too. Returns how many versions it
    /// destroyed. It does not reach the cluster's storage backups or
    /// snapshots taken before.
    ///
    /// # Errors
    /// The server's errors.
    pub fn destroy_history(&self) -> Result<usize> {
        let meta_op = alloc::format!("{}/metadata/{}", self.mount, self.path);
        let answer = self.vault.send(&meta_op, &meta_op, None, true)?;
        let v: serde_json::Value =
            serde_json::from_slice(&answer).map_err(|_| self.vault.malformed(&meta_op))?;
        let current = v
            .pointer("/data/current_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| self.vault.malformed(&meta_op))?;
        let old: Vec<u64> = v
            .pointer("/data/versions")
            .and_then(serde_json::Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(_, meta)| {
                        meta.get("destroyed") != Some(&serde_json::Value::Bool(true))
                    })
                    .filter_map(|(k, _)| k.parse::<u64>().ok())
                    .filter(|&n| n < current)
                    .collect()
            })
            .unwrap_or_default();
        if old.is_empty() {
            return Ok(0);
        }
        let op = alloc::format!("{}/destroy/{}", self.mount, self.path);
        let body = serde_json::json!({ "versions": old }).to_string();
        self.vault.send(&op, &op, Some(body.as_bytes()), true)?;
        Ok(old.len())
    }

    /// Destroys version `version` of key `name` (as
    /// [`Keyring::destroy_version`]) and then the KV history that still
    /// holds its material ([`KvStore::destroy_history`]): crypto-shredding
    /// that reaches the engine's history. Returns how many KV versions
    /// were destroyed.
    ///
    /// # Errors
    /// As [`KvStore::update`] and [`KvStore::destroy_history`].
    pub fn destroy_key_version(&self, name: &str, version: u32) -> Result<usize> {
        self.update(|k| k.destroy_version(name, version))?;
        self.destroy_history()
    }
}

#[cfg(test)]
mod tests {
    //! The parsers of this module fed garbage, without a server: the
    //! transit parameters of a file (FORMAT.md 10.3), the wrapped field,
    //! the answer scanner, and the address rules.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn root() -> TransitRoot {
        // A loopback address nothing listens on: every check below fails
        // before a request would be sent.
        let vault = Vault::connect(VaultConfig::new("http://127.0.0.1:1").with_token("t")).unwrap();
        TransitRoot::new(Arc::new(vault), "transit", "k").unwrap()
    }

    #[test]
    fn transit_params_round_trip_and_refuse_garbage() {
        let r = root();
        let params = r.new_params(&[0; 16]).unwrap();
        assert_eq!(params, b"\x07transit\x01k");
        assert_eq!(
            TransitRoot::parse_params(&params).unwrap(),
            ("transit".into(), "k".into())
        );
        let bad: [&[u8]; 9] = [
            b"",
            b"\x00",
            b"\x07transit",
            b"\x07transit\x00",
            b"\x07transit\x02k",
            b"\x07transit\x01kk",
            b"\x08transit/\x01k",
            b"\x01\xff\x01k",
            b"\x07transit\x01/",
        ];
        for b in bad {
            assert!(
                matches!(TransitRoot::parse_params(b), Err(Error::Malformed { .. })),
                "{b:?}"
            );
        }
        // Every strict prefix of valid parameters is refused.
        for n in 0..params.len() {
            assert!(TransitRoot::parse_params(&params[..n]).is_err());
        }
    }

    #[test]
    fn a_wrapped_key_that_is_not_a_transit_ciphertext_is_malformed() {
        let r = root();
        let params = r.new_params(&[0; 16]).unwrap();
        for wrapped in [
            &b""[..],
            b"vault:",
            b"v1:abc",
            b"\xff\xfe",
            b"vault:v1:\"}",
            b"vault:v1:a\\b",
            b"vault:v1:a b",
            b"vault:v1:\x7f",
            "vault:v1:é".as_bytes(),
        ] {
            assert!(
                matches!(
                    r.unwrap(&params, wrapped, b"aad"),
                    Err(Error::Malformed { .. })
                ),
                "{wrapped:?}"
            );
        }
    }

    #[test]
    fn the_answer_scanner_reads_plain_values_only() {
        let answer = br#"{"data":{"plaintext":"AAEC","ciphertext":"vault:v1:x"}}"#;
        assert_eq!(string_field(answer, "plaintext").unwrap().as_str(), "AAEC");
        assert_eq!(
            string_field(answer, "ciphertext").unwrap().as_str(),
            "vault:v1:x"
        );
        assert!(string_field(answer, "missing").is_none());
        assert!(string_field(br#"{"plaintext":"unterminated"#, "plaintext").is_none());
        assert!(string_field(br#"{"plaintext":"a\"b"}"#, "plaintext").is_none());
        assert!(string_field(b"\"plaintext\":\"\xff\"", "plaintext").is_none());
        assert_eq!(errors_of(br#"{"errors":["a","b"]}"#), "a; b");
        assert_eq!(errors_of(b"not json"), "no message");
    }

    #[test]
    fn addresses_and_names_follow_the_rules() {
        for (rest, host) in [
            ("127.0.0.1:8200", "127.0.0.1"),
            ("[::1]:8200/x", "::1"),
            ("localhost", "localhost"),
            ("vault.example.com:8200/v1", "vault.example.com"),
        ] {
            assert_eq!(host_of(rest), host);
        }
        assert!(is_loopback("127.3.4.5") && is_loopback("[::1]") && is_loopback("localhost"));
        assert!(!is_loopback("10.0.0.1") && !is_loopback("localhost.example.com"));
        for ok in ["transit", "a/b", "k-1_2.3"] {
            assert!(check_name(ok, true).is_ok());
        }
        for bad in ["", "/a", "a/", "a b", "ä", &"a".repeat(256)] {
            assert!(check_name(bad, true).is_err(), "{bad:?}");
        }
        assert!(check_name("a/b", false).is_err());
        let e = Vault::connect(VaultConfig::new("http://127.0.0.1:1")).unwrap_err();
        assert!(e.to_string().contains("no credentials"));
        let shown = alloc::format!(
            "{:?}",
            VaultConfig::new("http://127.0.0.1:1").with_token("s3cret")
        );
        assert!(!shown.contains("s3cret") && shown.contains("redacted"));
    }
}
