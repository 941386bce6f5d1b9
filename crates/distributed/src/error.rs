//! Errors of the distributed layer.

#[derive(Debug, thiserror::Error)]
pub enum DistError {
    /// The URL is not a Redis URL or names something unusable.
    #[error("{0}")]
    BadUrl(String),
    /// Redis refused the credentials.
    #[error(
        "{url}: Redis refused the credentials ({detail}); check the user and password in the URL"
    )]
    Auth { url: String, detail: String },
    /// Redis could not be reached when first connecting.
    #[error("{url}: cannot reach Redis ({detail})")]
    Unreachable { url: String, detail: String },
    /// Something answered on the port, but not the Redis protocol.
    #[error("{url}: the server there does not speak the Redis protocol ({detail}); check the host and port")]
    NotRedis { url: String, detail: String },
    /// A TLS certificate file could not be read.
    #[error("{path}: cannot read the CA certificate: {source}")]
    Certificate {
        path: String,
        source: std::io::Error,
    },
    /// Redis answered with an error that retrying will not cure.
    #[error("{url}: {detail}")]
    Redis { url: String, detail: String },
    /// A payload could not be encoded within its size bound.
    #[error("{0}")]
    Payload(String),
}
