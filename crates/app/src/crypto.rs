//! Encryption of patient identity (and second-factor secrets) at rest.
//!
//! XChaCha20-Poly1305 (authenticated, random 192-bit nonces) with keys from the configuration, never from
//! the database. The ciphertext names the key that made it, so several keys can decrypt while one
//! encrypts (rotation), and is bound to its row (the associated data names the record) so that a
//! ciphertext copied onto another row does not decrypt. Exact-match lookups use a keyed blind index
//! (HMAC-SHA-256 of the normalised identity, per CPTS).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use maillage_domain::Sensitive;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("security.data_keys is empty: generate a key with `maillage keys generate` and configure it")]
    NoDataKey,
    #[error("security.blind_index_key is empty: generate one with `maillage keys generate`")]
    NoIndexKey,
    #[error("{0}")]
    BadKey(String),
    #[error("ciphertext made with key {0}, which is not configured any more")]
    UnknownKey(String),
    #[error("ciphertext is damaged or belongs to another record")]
    Damaged,
}

struct DataKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The configured keys.
pub struct Keyring {
    keys: Vec<DataKey>,
    index_key: Sensitive<Vec<u8>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Keyring")
            .field("key_ids", &ids)
            .finish_non_exhaustive()
    }
}

fn decode_key(text: &str, what: &str) -> Result<[u8; 32], CryptoError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| CryptoError::BadKey(format!("{what} is not base64")))?;
    bytes
        .try_into()
        .map_err(|_| CryptoError::BadKey(format!("{what} must be 32 bytes")))
}

/// Keys written `id:base64,id:base64` (data keys, audit keys): ids of 1 to 32 letters, digits, `-` or `_`,
/// each once, each key 32 bytes. `what` names the setting in messages.
pub fn parse_keys(text: &str, what: &str) -> Result<Vec<(String, [u8; 32])>, CryptoError> {
    let mut keys: Vec<(String, [u8; 32])> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (id, key) = entry
            .split_once(':')
            .ok_or_else(|| CryptoError::BadKey(format!("{what}: each key is written id:base64")))?;
        let id = id.trim();
        if id.is_empty()
            || id.len() > 32
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(CryptoError::BadKey(format!(
                "{what}: key id « {id} »: 1 to 32 letters, digits, - or _"
            )));
        }
        if keys.iter().any(|(known, _)| known == id) {
            return Err(CryptoError::BadKey(format!(
                "{what}: key id {id} appears twice"
            )));
        }
        keys.push((
            id.to_string(),
            decode_key(key, &format!("{what}: key {id}"))?,
        ));
    }
    Ok(keys)
}

/// What starts a text sealed by [`Keyring::seal_text`].
pub const SEALED_TEXT_PREFIX: &str = "sealed:";

/// A new random key as `maillage keys generate` prints it.
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    STANDARD.encode(bytes)
}

impl Keyring {
    /// `data_keys`: `id:base64,id:base64` (first encrypts); `index_key`: base64.
    pub fn from_config(data_keys: &str, index_key: &str) -> Result<Self, CryptoError> {
        let keys: Vec<DataKey> = parse_keys(data_keys, "security.data_keys")?
            .into_iter()
            .map(|(id, key)| DataKey {
                id,
                cipher: XChaCha20Poly1305::new(&key.into()),
            })
            .collect();
        if keys.is_empty() {
            return Err(CryptoError::NoDataKey);
        }
        if index_key.trim().is_empty() {
            return Err(CryptoError::NoIndexKey);
        }
        let index_key = decode_key(index_key, "security.blind_index_key")?;
        Ok(Self {
            keys,
            index_key: Sensitive::new(index_key.to_vec()),
        })
    }

    pub fn active_key_id(&self) -> &str {
        self.keys.first().map(|k| k.id.as_str()).unwrap_or_default()
    }

    /// Encrypts `plaintext` for the record named by `context` (e.g. the CPTS and patient ids).
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self.keys.first().ok_or(CryptoError::NoDataKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Damaged)?;
        let id = key.id.as_bytes();
        let mut out = Vec::with_capacity(2 + id.len() + NONCE_LEN + sealed.len());
        out.push(FORMAT_VERSION);
        out.push(
            u8::try_from(id.len())
                .map_err(|_| CryptoError::BadKey("security.data_keys: key id too long".into()))?,
        );
        out.extend_from_slice(id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// [`Self::seal`] for a text column: `sealed:` then the ciphertext in base64, so that a sealed value is
    /// told apart from a clear one left by an earlier version.
    pub fn seal_text(&self, plaintext: &str, context: &[u8]) -> Result<String, CryptoError> {
        use base64::Engine;
        let sealed = self.seal(plaintext.as_bytes(), context)?;
        Ok(format!(
            "{SEALED_TEXT_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(sealed)
        ))
    }

    /// Opens a value written by [`Self::seal_text`].
    pub fn open_text(&self, sealed: &str, context: &[u8]) -> Result<String, CryptoError> {
        use base64::Engine;
        let encoded = sealed
            .strip_prefix(SEALED_TEXT_PREFIX)
            .ok_or(CryptoError::Damaged)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| CryptoError::Damaged)?;
        String::from_utf8(self.open(&bytes, context)?).map_err(|_| CryptoError::Damaged)
    }

    /// The key id a ciphertext was made with.
    pub fn key_id_of(sealed: &[u8]) -> Result<&str, CryptoError> {
        let (&version, rest) = sealed.split_first().ok_or(CryptoError::Damaged)?;
        let (&id_len, rest) = rest.split_first().ok_or(CryptoError::Damaged)?;
        if version != FORMAT_VERSION || rest.len() < usize::from(id_len) + NONCE_LEN {
            return Err(CryptoError::Damaged);
        }
        std::str::from_utf8(&rest[..usize::from(id_len)]).map_err(|_| CryptoError::Damaged)
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let id = Self::key_id_of(sealed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_string()))?;
        let body = &sealed[2 + id.len()..];
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        key.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Damaged)
    }

    /// Keyed hash for exact-match lookups; `scope` keeps indexes of two CPTS incomparable.
    pub fn blind_index(&self, scope: &[u8], normalised: &str) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.index_key.expose()) else {
            return String::new();
        };
        mac.update(scope);
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Who a patient is. Encrypted as a whole; never logged (`Debug` hides it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PatientIdentity {
    pub family_name: String,
    pub given_names: String,
    /// ISO date, `YYYY-MM-DD`.
    pub birth_date: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// What the patient or whoever refers them wrote: free text that may tell of health, so it is sealed
    /// with the identity.
    #[serde(default)]
    pub note: Option<String>,
}

impl std::fmt::Debug for PatientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientIdentity(***)")
    }
}

/// Upper case, accents and punctuation removed, single spaces: "Élodie  D'Arc-Martin" → "ELODIE D ARC MARTIN".
pub fn normalise_name(name: &str) -> String {
    maillage_domain::text::fold(name).to_ascii_uppercase()
}

impl PatientIdentity {
    /// What duplicates share: names and birth date, normalised.
    pub fn match_key(&self) -> String {
        format!(
            "{}|{}|{}",
            normalise_name(&self.family_name),
            normalise_name(&self.given_names),
            self.birth_date.trim()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring(keys: &str) -> Keyring {
        Keyring::from_config(keys, &generate_key()).unwrap()
    }

    #[test]
    fn sealed_data_opens_only_with_its_key_and_context() {
        let ring = keyring(&format!("k1:{}", generate_key()));
        let sealed = ring.seal(b"DUPONT Marie", b"cpts-a/patient-1").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"DUPONT"));
        assert_eq!(
            ring.open(&sealed, b"cpts-a/patient-1").unwrap(),
            b"DUPONT Marie"
        );
        assert_eq!(
            ring.open(&sealed, b"cpts-a/patient-2"),
            Err(CryptoError::Damaged)
        );
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(
            ring.open(&flipped, b"cpts-a/patient-1"),
            Err(CryptoError::Damaged)
        );
        assert_eq!(ring.open(&[1], b""), Err(CryptoError::Damaged));
        assert_ne!(
            sealed,
            ring.seal(b"DUPONT Marie", b"cpts-a/patient-1").unwrap(),
            "random nonce"
        );
    }

    #[test]
    fn rotation_keeps_old_ciphertexts_readable() {
        let old_key = generate_key();
        let old = keyring(&format!("2025:{old_key}"));
        let sealed = old.seal(b"secret", b"ctx").unwrap();
        let rotated = keyring(&format!("2026:{},2025:{old_key}", generate_key()));
        assert_eq!(rotated.active_key_id(), "2026");
        assert_eq!(Keyring::key_id_of(&sealed), Ok("2025"));
        assert_eq!(rotated.open(&sealed, b"ctx").unwrap(), b"secret");
        let resealed = rotated.seal(b"secret", b"ctx").unwrap();
        assert_eq!(Keyring::key_id_of(&resealed), Ok("2026"));
        let without_old = keyring(&format!("2026:{}", generate_key()));
        assert_eq!(
            without_old.open(&sealed, b"ctx"),
            Err(CryptoError::UnknownKey("2025".into()))
        );
    }

    #[test]
    fn bad_key_configuration_is_explained() {
        let index = generate_key();
        assert_eq!(
            Keyring::from_config("", &index).unwrap_err(),
            CryptoError::NoDataKey
        );
        assert!(matches!(
            Keyring::from_config("nocolon", &index),
            Err(CryptoError::BadKey(_))
        ));
        assert!(matches!(
            Keyring::from_config("k:AAAA", &index),
            Err(CryptoError::BadKey(_))
        ));
        let key = generate_key();
        assert!(matches!(
            Keyring::from_config(&format!("k:{key},k:{key}"), &index),
            Err(CryptoError::BadKey(_))
        ));
        assert_eq!(
            Keyring::from_config(&format!("k:{key}"), "").unwrap_err(),
            CryptoError::NoIndexKey
        );
        let ring = keyring(&format!("k:{key}"));
        assert!(!format!("{ring:?}").contains(&key));
    }

    #[test]
    fn the_blind_index_matches_equal_identities_only() {
        let ring = keyring(&format!("k:{}", generate_key()));
        let a = PatientIdentity {
            family_name: "Dupont".into(),
            given_names: "Élodie".into(),
            birth_date: "1950-03-02".into(),
            ..PatientIdentity::default()
        };
        let b = PatientIdentity {
            family_name: " DUPONT ".into(),
            given_names: "elodie".into(),
            ..a.clone()
        };
        assert_eq!(
            ring.blind_index(b"cpts-a", &a.match_key()),
            ring.blind_index(b"cpts-a", &b.match_key())
        );
        assert_ne!(
            ring.blind_index(b"cpts-a", &a.match_key()),
            ring.blind_index(b"cpts-b", &a.match_key())
        );
        let other = PatientIdentity {
            birth_date: "1950-03-03".into(),
            ..a.clone()
        };
        assert_ne!(
            ring.blind_index(b"cpts-a", &a.match_key()),
            ring.blind_index(b"cpts-a", &other.match_key())
        );
        assert_eq!(format!("{a:?}"), "PatientIdentity(***)");
        assert_eq!(
            normalise_name("Élodie  D'Arc-Martin"),
            "ELODIE D ARC MARTIN"
        );
    }
}
