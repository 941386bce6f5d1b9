//! One connection to Redis that survives server restarts: the first
//! connection fails fast with a clear error (wrong password, unreachable
//! host); later losses are retried with exponential backoff.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redis::{Client, Connection, RedisError, RedisResult};

use crate::error::DistError;

/// Where Redis is: a `redis://` or `rediss://` (TLS) URL, optionally with a
/// CA certificate for servers whose certificate no public root signs.
#[derive(Debug, Clone)]
pub struct RedisTarget {
    url: String,
    ca: Option<PathBuf>,
}

impl RedisTarget {
    pub fn new(url: &str, ca: Option<&Path>) -> Result<Self, DistError> {
        let scheme = url.split("://").next().unwrap_or("");
        if !(scheme == "redis" || scheme == "rediss") || !url.contains("://") {
            return Err(DistError::BadUrl(format!(
                "`{}`: not a Redis URL; use redis://[user:password@]host:port[/db] or rediss:// for TLS",
                redact(url)
            )));
        }
        if ca.is_some() && scheme != "rediss" {
            return Err(DistError::BadUrl(format!(
                "`{}`: a CA certificate needs a rediss:// (TLS) URL",
                redact(url)
            )));
        }
        let t = Self {
            url: url.to_string(),
            ca: ca.map(Path::to_path_buf),
        };
        t.client()?; // validates host, port and db
        Ok(t)
    }

    /// The URL with its password replaced by `***`, for messages.
    pub fn display(&self) -> String {
        redact(&self.url)
    }

    fn client(&self) -> Result<Client, DistError> {
        let bad = |e: RedisError| DistError::BadUrl(format!("`{}`: {e}", self.display()));
        match &self.ca {
            None => Client::open(self.url.as_str()).map_err(bad),
            Some(p) => {
                let pem = std::fs::read(p).map_err(|source| DistError::Certificate {
                    path: p.display().to_string(),
                    source,
                })?;
                Client::build_with_tls(
                    self.url.as_str(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem),
                    },
                )
                .map_err(bad)
            }
        }
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((auth, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    let user = auth.split_once(':').map_or("", |(u, _)| u);
    if auth.contains(':') {
        format!("{scheme}://{user}:***@{host}")
    } else {
        format!("{scheme}://***@{host}")
    }
}

/// Whether an error means the connection is gone (retry after reconnecting)
/// rather than a refused command.
pub fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(e.code(), Some("LOADING") | Some("MASTERDOWN"))
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Reads block at most about a second (`BLOCK` ≤ 1000 ms); anything
/// slower is a dead link.
const READ_TIMEOUT: Duration = Duration::from_secs(20);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub struct Link {
    target: RedisTarget,
    client: Client,
    con: Option<Connection>,
    /// Incremented on every successful reconnection, so that callers can
    /// check what a restarted server still holds.
    pub reconnections: u64,
}

impl Link {
    /// Connects and checks the credentials with a `PING`.
    pub fn connect(target: &RedisTarget) -> Result<Self, DistError> {
        // rustls needs a process-wide crypto provider; installing it twice
        // is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = target.client()?;
        let mut link = Self {
            target: target.clone(),
            client,
            con: None,
            reconnections: 0,
        };
        let con = link.open().map_err(|e| link.classify(e, true))?;
        link.con = Some(con);
        Ok(link)
    }

    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    fn open(&self) -> RedisResult<Connection> {
        let mut con = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        con.set_read_timeout(Some(READ_TIMEOUT))?;
        con.set_write_timeout(Some(READ_TIMEOUT))?;
        redis::cmd("PING").query::<String>(&mut con)?;
        Ok(con)
    }

    fn classify(&self, e: RedisError, first: bool) -> DistError {
        let url = self.target.display();
        let detail = e.to_string();
        let auth = e.kind() == redis::ErrorKind::AuthenticationFailed
            || matches!(e.code(), Some("NOAUTH") | Some("WRONGPASS"))
            || detail.contains("WRONGPASS")
            || detail.contains("NOAUTH");
        let one_line = detail.split_whitespace().collect::<Vec<_>>().join(" ");
        if auth {
            DistError::Auth { url, detail }
        } else if first
            && matches!(
                e.kind(),
                redis::ErrorKind::Parse | redis::ErrorKind::UnexpectedReturnType
            )
        {
            DistError::NotRedis {
                url,
                detail: one_line,
            }
        } else if first && (is_connection_error(&e) || detail.contains("certificate")) {
            let hint = if detail.contains("UnknownIssuer") {
                "; if a private CA signed the server's certificate, pass it with --redis-ca FILE"
            } else {
                ""
            };
            DistError::Unreachable {
                url,
                detail: format!("{detail}{hint}"),
            }
        } else {
            DistError::Redis { url, detail }
        }
    }

    /// Runs `f` on the connection. Connection losses are retried with
    /// backoff (100 ms doubling to 5 s) until the server is back; other
    /// errors are returned. `f` may run more than once: make it idempotent
    /// or harmless to repeat.
    pub fn call<T>(
        &mut self,
        mut f: impl FnMut(&mut Connection) -> RedisResult<T>,
    ) -> Result<T, DistError> {
        let mut backoff = Duration::from_millis(100);
        let mut down_since: Option<Instant> = None;
        loop {
            if self.con.is_none() {
                match self.open() {
                    Ok(c) => {
                        self.con = Some(c);
                        if let Some(t) = down_since {
                            self.reconnections += 1;
                            tracing::warn!(
                                "reconnected to {} after {:.1} s",
                                self.target.display(),
                                t.elapsed().as_secs_f64()
                            );
                        }
                    }
                    Err(e) if is_connection_error(&e) => {
                        let t = *down_since.get_or_insert_with(Instant::now);
                        tracing::warn!(
                            "Redis at {} unreachable for {:.1} s ({e}); retrying in {:.1} s",
                            self.target.display(),
                            t.elapsed().as_secs_f64(),
                            backoff.as_secs_f64()
                        );
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                    Err(e) => return Err(self.classify(e, false)),
                }
            }
            let con = self.con.as_mut().expect("connected above");
            match f(con) {
                Ok(v) => return Ok(v),
                Err(e) if is_connection_error(&e) => {
                    down_since.get_or_insert_with(Instant::now);
                    tracing::warn!("lost Redis at {}: {e}", self.target.display());
                    self.con = None;
                }
                Err(e) => return Err(self.classify(e, false)),
            }
        }
    }
}

/// Milliseconds since the Unix epoch (heartbeats only; never a result).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("redis://:hunter2@10.0.0.1:6379/2"),
            "redis://:***@10.0.0.1:6379/2"
        );
        assert_eq!(
            redact("rediss://evo:hunter2@h:6380"),
            "rediss://evo:***@h:6380"
        );
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
    }

    #[test]
    fn urls_are_checked() {
        assert!(RedisTarget::new("redis://127.0.0.1:6379/1", None).is_ok());
        assert!(RedisTarget::new("rediss://127.0.0.1:6380", None).is_ok());
        let e = RedisTarget::new("http://x:1", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a Redis URL"), "{e}");
        let e = RedisTarget::new("redis://:pw@h:1", Some(Path::new("ca.pem")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("rediss://") && !e.contains("pw@"), "{e}");
    }

    #[test]
    fn an_unreachable_server_is_reported_at_once() {
        // Port 1 on loopback: nothing listens there.
        let t = RedisTarget::new("redis://127.0.0.1:1", None).unwrap();
        let start = Instant::now();
        let e = Link::connect(&t).err().expect("no server on port 1");
        assert!(matches!(e, DistError::Unreachable { .. }), "{e}");
        assert!(start.elapsed() < CONNECT_TIMEOUT * 2);
    }
}
