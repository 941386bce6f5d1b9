//! Upper bounds on sizes, times and memory that every crate's validation
//! checks its settings against, so that no value that passes validation can
//! overflow a conversion or ask for more than a machine has. They are far
//! above any published setting (the largest population in the literature
//! this crate follows is OpenAI-ES's 10,000 workers' pairs; Real et al.'s
//! population is 100).

/// Candidates per generation, for every strategy.
pub const MAX_POPULATION: usize = 1_000_000;

/// Seconds any time limit may be set to (30 days); also what a `Duration`
/// conversion of a checked setting can rely on.
pub const MAX_SECONDS: f64 = 30.0 * 24.0 * 3600.0;

/// Megabytes any memory limit may be set to (16 TiB): `MB << 20` fits a
/// `u64`.
pub const MAX_MEMORY_MB: u64 = 16 << 20;

/// Milliseconds of an injected delay (fault-injection tests): a minute.
pub const MAX_DELAY_MS: u64 = 60_000;

/// Why a population of `n` is refused, if it is.
pub fn check_population(n: usize) -> Result<(), String> {
    if n > MAX_POPULATION {
        return Err(format!("must be at most {MAX_POPULATION} (got {n})"));
    }
    Ok(())
}

/// Why a time limit of `seconds` is refused, if it is.
pub fn check_seconds(seconds: f64) -> Result<(), String> {
    if !(seconds > 0.0 && seconds <= MAX_SECONDS) {
        return Err(format!(
            "must be a positive number of seconds, at most {MAX_SECONDS} (30 days)"
        ));
    }
    Ok(())
}

/// Bytes in words a person reads: `17.2 GB`.
pub fn bytes(n: u128) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB", "ZB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_refuse_what_overflows_and_keep_published_settings() {
        assert!(check_population(10_000).is_ok());
        assert!(check_population(usize::MAX).is_err());
        assert!(check_seconds(60.0).is_ok());
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN, 1e300] {
            assert!(check_seconds(bad).is_err(), "{bad}");
        }
        assert!((MAX_MEMORY_MB as u128) << 20 <= u64::MAX as u128);
        assert!(std::time::Duration::try_from_secs_f64(MAX_SECONDS).is_ok());
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(17_200_000_000), "17.2 GB");
    }
}
