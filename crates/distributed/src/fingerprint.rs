//! The problem fingerprint: a plain-text description of what a config
//! builds (problem, genome type, noise table, versions), one fact per line,
//! and its 64-bit FNV-1a hash. The coordinator publishes both; a worker
//! builds the problem from the same config and must arrive at the same
//! hash, else it refuses the run and names the first line that differs.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub text: String,
}

impl Fingerprint {
    pub fn new(lines: impl IntoIterator<Item = String>) -> Self {
        let mut text = String::new();
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
        Self { text }
    }

    pub fn hash(&self) -> String {
        format!("{:016x}", fnv1a64(self.text.as_bytes()))
    }

    /// The first line where `self` (the worker's) and `published` differ.
    pub fn first_difference(&self, published: &str) -> Option<String> {
        let mut a = self.text.lines();
        let mut b = published.lines();
        loop {
            match (a.next(), b.next()) {
                (None, None) => return None,
                (x, y) if x == y => continue,
                (x, y) => {
                    return Some(format!(
                        "run has `{}`, this worker `{}`",
                        y.unwrap_or("(nothing)"),
                        x.unwrap_or("(nothing)")
                    ))
                }
            }
        }
    }
}

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn the_first_differing_line_is_named() {
        let a = Fingerprint::new(["x 1".to_string(), "y 2".to_string()]);
        let b = Fingerprint::new(["x 1".to_string(), "y 3".to_string()]);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.first_difference(&a.text), None);
        let d = a.first_difference(&b.text).unwrap();
        assert!(d.contains("y 3") && d.contains("y 2"), "{d}");
    }
}
