//! API tokens: `flx_` + 128 random bits from the OS + a CRC32 checksum, all base62. Only the
//! SHA-256 digest is stored; a presented token is checked offline (prefix, length, checksum)
//! before any lookup, and digests are compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What every fluxlab token starts with (secret scanners can match on it).
pub const PREFIX: &str = "flx_";
/// Base62 characters of the random part (16 bytes need 22).
const SECRET_CHARS: usize = 22;
/// Base62 characters of the checksum (a u32 needs 6).
const CHECK_CHARS: usize = 6;
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 of `value`, left-padded with `0` to `width` characters.
fn base62(mut value: u128, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(out).expect("ASCII")
}

fn checksum(secret: &str) -> String {
    base62(crc32fast::hash(secret.as_bytes()) as u128, CHECK_CHARS)
}

/// A new token: (the token, shown once; its digest, stored).
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; 16];
    getrandom_os(&mut bytes);
    let secret = base62(u128::from_le_bytes(bytes), SECRET_CHARS);
    let token = format!("{PREFIX}{secret}{}", checksum(&secret));
    let digest = digest(&token);
    (token, digest)
}

/// Fills `bytes` from the operating system's generator.
fn getrandom_os(bytes: &mut [u8]) {
    use rand::TryRng;
    rand::rngs::SysRng
        .try_fill_bytes(bytes)
        .expect("the operating system's random generator failed");
}

/// Hex SHA-256 of a token: what the database stores and looks up.
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a presented token is not even worth a lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("a fluxlab token starts with `flx_`")]
    Prefix,
    #[error("a fluxlab token has {expected} characters after `flx_` (was it cut off when pasted?)")]
    Length { expected: usize },
    #[error("the token's checksum does not match (was it mistyped or cut when pasted?)")]
    Checksum,
}

/// Checks prefix, length, alphabet and checksum offline.
pub fn check_format(token: &str) -> Result<(), Malformed> {
    let body = token.strip_prefix(PREFIX).ok_or(Malformed::Prefix)?;
    let expected = SECRET_CHARS + CHECK_CHARS;
    if body.len() != expected || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Malformed::Length { expected });
    }
    let (secret, check) = body.split_at(SECRET_CHARS);
    if checksum(secret).as_bytes().ct_eq(check.as_bytes()).into() {
        Ok(())
    } else {
        Err(Malformed::Checksum)
    }
}

/// Constant-time equality of two digests.
pub fn digests_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_pass_their_own_check_and_differ() {
        let (a, da) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with("flx_"));
        assert_eq!(a.len(), 4 + 22 + 6);
        assert_eq!(check_format(&a), Ok(()));
        assert_eq!(digest(&a), da);
        assert_eq!(da.len(), 64);
        assert!(
            !da.contains(&a[4..]),
            "the digest does not contain the token"
        );
    }

    #[test]
    fn fragments_typos_and_foreign_strings_are_caught_offline() {
        let (t, _) = generate();
        assert_eq!(
            check_format(&t[..t.len() - 1]),
            Err(Malformed::Length { expected: 28 })
        );
        let mut typo = t.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            check_format(std::str::from_utf8(&typo).unwrap()),
            Err(Malformed::Checksum)
        );
        assert_eq!(check_format("ghp_abc"), Err(Malformed::Prefix));
        assert!(digests_equal(&digest(&t), &digest(&t)));
        assert!(!digests_equal(&digest(&t), &digest("x")));
    }
}
