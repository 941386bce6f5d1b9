//! What a setting's memory must fit: the memory this machine has available
//! now (Linux `MemAvailable`), so that a table or population too large for
//! it is refused at validation with the bytes it needs, not by an
//! allocation failure minutes later.

use evonet_core::limits::bytes;

/// Bytes of memory available to a new allocation, when the OS says.
pub fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// Why `needed` bytes (for `what`) are refused, if they are: more than is
/// available now.
pub fn check_fits(needed: u128, what: &str) -> Result<(), String> {
    match available_bytes() {
        Some(available) if needed > available as u128 => Err(format!(
            "{what} needs {} of memory, more than the {} this machine has available",
            bytes(needed),
            bytes(available as u128)
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_larger_than_memory_is_refused_with_its_size() {
        if available_bytes().is_none() {
            assert!(std::env::var_os("CI").is_none(), "CI runs on Linux");
            return;
        }
        let err = check_fits(u64::MAX as u128 * 4, "the noise table").unwrap_err();
        assert!(err.contains("the noise table needs 73.8 EB"), "{err}");
        assert!(check_fits(1024, "a small table").is_ok());
    }
}
