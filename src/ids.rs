//! Identifiers: `job_id`, `archive_id` and `request_id` are 32 lowercase hex characters (D11), the
//! simple form of a random (version 4) UUID.
//!
//! Each kind of id comes from its own [`IdStream`], so that with a fixed seed each sequence repeats
//! from run to run whatever the other streams did. A stream is a ChaCha12 generator (`rand`'s
//! `StdRng`), a cryptographic one: seen ids reveal nothing about the generator's state, about the
//! other streams, or about any secret. Without `[emulator] seed` every stream is keyed from the
//! operating system's random source. With a seed, ids repeat and can be predicted by anyone who
//! knows the seed, but nothing secret derives from it: the key that seals IAM tokens is never the
//! seed's (see [`token_key`]).

use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use chacha20::ChaCha12Rng;
use rand::rngs::{StdRng, SysRng};
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// A 32-character lowercase hex id, kept as its 128 bits (16 bytes, big-endian, no allocation): a
/// held job keeps several, so they are kept small, and as bytes (alignment 1, so an `Option` of
/// one takes 17 bytes rather than a `u128`'s 32). [`Hex32::hex`] spells one out. Ordered as its
/// text is (big-endian bytes and fixed-width lowercase hex both sort as the number does).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hex32([u8; 16]);

impl Hex32 {
    /// The simple (32 lowercase hex digits, no hyphens) form of `uuid`.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(*uuid.as_bytes())
    }

    /// The id that spells the 128 bits of `v` in hex (fixed ids in tests and fixtures).
    pub fn from_u128(v: u128) -> Self {
        Self(v.to_be_bytes())
    }

    /// The id as text.
    pub fn hex(&self) -> HexText {
        let mut out = [0u8; 32];
        // Cannot fail: 16 bytes are exactly 32 digits.
        let _ = hex::encode_to_slice(self.0, &mut out);
        HexText(out)
    }
}

/// The 32 hex digits of a [`Hex32`], on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexText([u8; 32]);

impl HexText {
    /// The digits as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written (Hex32::hex).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::ops::Deref for HexText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for HexText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Hex32 {
    type Err = ();

    /// Accepts exactly 32 lowercase hex digits.
    fn from_str(s: &str) -> Result<Self, ()> {
        let mut bytes = [0u8; 16];
        let lowercase = s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !lowercase || hex::decode_to_slice(s, &mut bytes).is_err() {
            return Err(());
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl serde::Serialize for Hex32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hex32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse()
            .map_err(|()| serde::de::Error::custom("expected 32 lowercase hex digits"))
    }
}

/// Lower-case hex of `bytes` (digests, signatures, sealed tokens).
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// 32 bytes from the operating system's random source (the token-sealing key, stream keys).
pub fn os_random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    match StdRng::try_from_rng(&mut SysRng) {
        Ok(mut rng) => rng.fill_bytes(&mut key),
        // No OS random source at all: the process cannot be trusted with secrets; fail loudly.
        Err(e) => panic!("the operating system's random source is unavailable: {e}"),
    }
    key
}

/// The key that seals issued IAM tokens: `[auth] token_key` when configured (so tokens survive a
/// restart), else fresh from the OS's random source. Never derived from `[emulator] seed`.
pub fn token_key(configured: Option<&str>) -> [u8; 32] {
    match configured {
        Some(key) => {
            use sha2::Digest;
            sha2::Sha256::digest(format!("roma-emulator token key\n{key}").as_bytes()).into()
        }
        None => os_random_key(),
    }
}

/// The furthest position (in 32-bit words) a stream may be moved to: 2^60 words is more ids than
/// any emulator will hand out, and far from the generator's 2^68-word period.
pub const MAX_POSITION: u64 = 1 << 60;

/// A sequence of ids (or random numbers): reproducible for a seed, unpredictable without one.
/// The generator is ChaCha12 (what `rand`'s `StdRng` is), whose position can be set in constant
/// time, so restoring a stream costs the same whatever its position.
#[derive(Debug)]
pub struct IdStream {
    rng: Mutex<ChaCha12Rng>,
}

impl IdStream {
    /// A stream for `seed`, told apart from other streams of the same seed by `stream`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&stream.to_le_bytes());
        key[16..].copy_from_slice(b"roma-emulator id");
        Self::keyed(key)
    }

    /// A stream keyed by the OS's random source: different on every run.
    pub fn random() -> Self {
        Self::keyed(os_random_key())
    }

    fn keyed(key: [u8; 32]) -> Self {
        Self {
            rng: Mutex::new(ChaCha12Rng::from_seed(key)),
        }
    }

    /// Runs `f` on the generator.
    fn with<T>(&self, f: impl FnOnce(&mut ChaCha12Rng) -> T) -> T {
        f(&mut self.rng.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The next id: a random UUID's 32 hex digits.
    pub fn next_id(&self) -> Hex32 {
        let bytes: [u8; 16] = self.with(|rng| {
            let mut b = [0u8; 16];
            rng.fill_bytes(&mut b);
            b
        });
        Hex32::from_uuid(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    /// The next number uniformly drawn from [0, 1).
    pub fn next_unit(&self) -> f64 {
        (self.with(|rng| rng.next_u64()) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// How many 32-bit words the stream has given.
    pub fn position(&self) -> u64 {
        u64::try_from(self.with(|rng| rng.get_word_pos())).unwrap_or(u64::MAX)
    }

    /// Moves the stream forward to `position` (never back, never past [`MAX_POSITION`]), in
    /// constant time, so a restored seeded stream does not hand out the ids it gave before again.
    pub fn advance_to(&self, position: u64) {
        let position = u128::from(position.min(MAX_POSITION));
        self.with(|rng| {
            if rng.get_word_pos() < position {
                rng.set_word_pos(position);
            }
        });
    }
}

/// The emulator's id streams, one per kind of id, so each sequence is reproducible on its own.
#[derive(Debug)]
pub struct Ids {
    /// The seed they all derive from, if one was configured.
    pub seed: Option<u64>,
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
            seed: Some(seed),
            jobs: IdStream::new(seed, 1),
            archives: IdStream::new(seed, 2),
            requests: IdStream::new(seed, 3),
            draws: IdStream::new(seed, 4),
        }
    }

    /// The streams' positions (jobs, archives, requests, draws).
    pub fn positions(&self) -> [u64; 4] {
        [&self.jobs, &self.archives, &self.requests, &self.draws].map(IdStream::position)
    }

    /// Moves each stream forward to its position in `positions`.
    pub fn advance_to(&self, positions: [u64; 4]) {
        for (stream, at) in [&self.jobs, &self.archives, &self.requests, &self.draws]
            .into_iter()
            .zip(positions)
        {
            stream.advance_to(at);
        }
    }

    /// Streams keyed from the OS's random source: different on every run, and unpredictable.
    pub fn random() -> Self {
        Self {
            seed: None,
            jobs: IdStream::random(),
            archives: IdStream::random(),
            requests: IdStream::random(),
            draws: IdStream::random(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lowercase_hex_and_parse_back() {
        let s = IdStream::new(7, 1);
        let id = s.next_id();
        assert_eq!(id.hex().len(), 32);
        assert!(
            id.hex()
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(id.hex().parse::<Hex32>(), Ok(id));
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
        assert_ne!(IdStream::random().next_id(), IdStream::random().next_id());
    }

    #[test]
    fn a_stream_moved_to_a_position_continues_where_the_other_left_off() {
        let a = Ids::seeded(9);
        let _ = (a.jobs.next_id(), a.draws.next_unit(), a.draws.next_id());
        let b = Ids::seeded(9);
        b.advance_to(a.positions());
        assert_eq!(b.jobs.next_id(), a.jobs.next_id());
        assert_eq!(b.draws.next_id(), a.draws.next_id());
    }

    #[test]
    fn a_stream_moves_to_its_furthest_position_at_once_and_keeps_going() {
        let a = IdStream::new(3, 1);
        a.advance_to(u64::MAX);
        assert_eq!(a.position(), MAX_POSITION);
        let first = a.next_id();
        assert_ne!(first, a.next_id());
        assert_eq!(a.position(), MAX_POSITION + 8);
    }

    #[test]
    fn the_stream_is_rands_std_rng() {
        let mut std = StdRng::from_seed([7u8; 32]);
        let ours = IdStream::keyed([7u8; 32]);
        assert_eq!(ours.with(|r| r.next_u64()), std.next_u64());
    }

    #[test]
    fn unit_draws_stay_in_range() {
        let s = IdStream::new(1, 3);
        assert!((0..1000).map(|_| s.next_unit()).all(|u| (0.0..1.0).contains(&u)));
    }

    #[test]
    fn the_token_key_is_random_unless_configured() {
        assert_ne!(token_key(None), token_key(None));
        assert_eq!(token_key(Some("k")), token_key(Some("k")));
        assert_ne!(token_key(Some("k")), token_key(Some("l")));
    }
}
