//! Identifiers: `job_id`, `archive_id` and `request_id` are 32 lowercase hex characters (D11).
//!
//! Each kind of id comes from its own [`IdStream`], so that with a fixed seed each sequence repeats
//! from run to run whatever the other streams did. Generation is lock-free: a counter fed through
//! splitmix64, which is a bijection, so ids of one stream never repeat.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// A 32-character lowercase hex id, kept inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hex32([u8; 32]);

impl Hex32 {
    /// Builds the id that spells the 128 bits `hi:lo` in hex.
    pub fn from_u128(v: u128) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            let nibble = (v >> (124 - 4 * i)) & 0xf;
            *byte = HEX[nibble as usize];
        }
        Self(out)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored (from_u128 and from_str check this).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for Hex32 {
    type Err = ();

    /// Accepts exactly 32 lowercase hex digits.
    fn from_str(s: &str) -> Result<Self, ()> {
        let bytes: [u8; 32] = s.as_bytes().try_into().map_err(|_| ())?;
        if bytes
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        {
            Ok(Self(bytes))
        } else {
            Err(())
        }
    }
}

impl fmt::Display for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

impl serde::Serialize for Hex32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Lower-case hex of `bytes` (digests, signatures, sealed tokens).
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// splitmix64's output function: a bijection on u64 with good avalanche.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A sequence of ids (or random numbers) determined by a seed.
#[derive(Debug)]
pub struct IdStream {
    seed: u64,
    counter: AtomicU64,
}

impl IdStream {
    /// A stream for `seed`, told apart from other streams of the same seed by `stream`.
    pub fn new(seed: u64, stream: u64) -> Self {
        Self {
            seed: mix64(seed ^ mix64(stream)),
            counter: AtomicU64::new(0),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        mix64(self.seed.wrapping_add(n))
    }

    /// The next id. Unique within the stream: the high half is a bijection of the counter.
    pub fn next_id(&self) -> Hex32 {
        let hi = self.next_u64();
        let lo = mix64(hi ^ self.seed);
        Hex32::from_u128((u128::from(hi) << 64) | u128::from(lo))
    }

    /// The next number uniformly drawn from [0, 1).
    pub fn next_unit(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The emulator's id streams, one per kind of id, so each sequence is reproducible on its own.
#[derive(Debug)]
pub struct Ids {
    /// The seed they all derive from.
    pub seed: u64,
    /// `job_id`s.
    pub jobs: IdStream,
    /// `archive_id`s.
    pub archives: IdStream,
    /// `request_id`s.
    pub requests: IdStream,
    /// Random draws (fault probabilities) and other opaque ids.
    pub draws: IdStream,
}

impl Ids {
    /// Streams that repeat for the same `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed,
            jobs: IdStream::new(seed, 1),
            archives: IdStream::new(seed, 2),
            requests: IdStream::new(seed, 3),
            draws: IdStream::new(seed, 4),
        }
    }

    /// A 32-byte key derived from the seed (it seals issued IAM tokens).
    pub fn secret_key(&self) -> [u8; 32] {
        let mut key = [0u8; 32];
        for (i, chunk) in key.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&mix64(self.seed ^ mix64(0x5eed_0000 + i as u64)).to_le_bytes());
        }
        key
    }

    /// Streams seeded from the time and process: different on every run.
    pub fn random() -> Self {
        Self::seeded(random_seed())
    }
}

/// A seed that differs from run to run, for when none is configured.
pub fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let local = 0u8;
    mix64(nanos ^ mix64(u64::from(std::process::id())) ^ (&local as *const u8 as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lowercase_hex_and_parse_back() {
        let s = IdStream::new(7, 1);
        let id = s.next_id();
        assert_eq!(id.as_str().len(), 32);
        assert!(
            id.as_str()
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(id.as_str().parse::<Hex32>(), Ok(id));
        for bad in [
            "",
            "ABCDEF0123456789abcdef0123456789",
            "xyz",
            "0123456789abcdef0123456789abcdef0",
        ] {
            assert!(bad.parse::<Hex32>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn same_seed_same_sequence_and_streams_differ() {
        let a = IdStream::new(42, 1);
        let b = IdStream::new(42, 1);
        let c = IdStream::new(42, 2);
        let first = a.next_id();
        assert_eq!(first, b.next_id());
        assert_ne!(first, c.next_id());
        assert_ne!(first, a.next_id());
    }

    #[test]
    fn unit_draws_stay_in_range() {
        let s = IdStream::new(1, 3);
        assert!((0..1000).map(|_| s.next_unit()).all(|u| (0.0..1.0).contains(&u)));
    }
}
