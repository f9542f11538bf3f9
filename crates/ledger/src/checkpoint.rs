//! C2SP checkpoints (<https://c2sp.org/tlog-checkpoint>): the signed tree
//! head of the log.
//!
//! The note text is three lines, origin, decimal tree size and base64 root,
//! optionally followed by non-empty extension lines. Parsing is strict (no
//! leading zeros, exactly 32 root bytes, canonical base64) because two
//! different texts for the same tree head would be two different signed
//! statements.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::merkle::Hash;
use crate::note::{open_note, NoteError, NoteSigner, NoteVerifier};

/// Why a checkpoint was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The text does not follow the checkpoint format.
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    /// The origin is empty or contains a newline or control character.
    #[error("invalid checkpoint origin {0:?}")]
    InvalidOrigin(String),
    /// The checkpoint's origin is not the key name of the log key used. We
    /// require them to be equal (the spec says they SHOULD be) so that a key
    /// trusted for one log cannot vouch for another log's checkpoints.
    #[error("checkpoint origin {origin:?} does not match log key name {key_name:?}")]
    OriginMismatch {
        /// The origin line.
        origin: String,
        /// The key name.
        key_name: String,
    },
    /// The signed note around it was rejected.
    #[error(transparent)]
    Note(#[from] NoteError),
}

/// A tree head: which log, how many leaves, and the root over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `registry.example/log`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root over the first `size` leaves.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: `origin\nsize\nbase64(root)\n`.
    pub fn to_note_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses checkpoint note text, ignoring extension lines.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        Self::parse_with_extensions(text).map(|(cp, _)| cp)
    }

    /// Parses checkpoint note text and returns the extension lines too.
    pub fn parse_with_extensions(text: &str) -> Result<(Self, Vec<String>), CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("text must end with a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed(
                "need origin, size and root lines",
            ));
        };
        validate_origin(origin)?;
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        let mut extensions = Vec::new();
        for line in lines {
            if line.is_empty() {
                return Err(CheckpointError::Malformed("empty extension line"));
            }
            if line.bytes().any(|b| b < 0x20) {
                return Err(CheckpointError::Malformed(
                    "control character in extension line",
                ));
            }
            extensions.push(line.to_owned());
        }
        Ok((
            Self {
                origin: origin.to_owned(),
                size,
                root,
            },
            extensions,
        ))
    }
}

fn validate_origin(origin: &str) -> Result<(), CheckpointError> {
    if origin.is_empty() || origin.chars().any(char::is_control) {
        return Err(CheckpointError::InvalidOrigin(origin.to_owned()));
    }
    Ok(())
}

/// Decimal, no sign, no leading zeros unless the value is 0, fits in u64.
fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CheckpointError::Malformed(
            "tree size is not a decimal number",
        ));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(CheckpointError::Malformed("tree size has leading zeros"));
    }
    s.parse()
        .map_err(|_| CheckpointError::Malformed("tree size does not fit in 64 bits"))
}

/// Standard padded base64 of exactly 32 bytes, canonical (no stray bits).
fn parse_root(s: &str) -> Result<Hash, CheckpointError> {
    // 32 bytes are always 44 characters; checking first also bounds the work.
    if s.len() != 44 {
        return Err(CheckpointError::Malformed("root hash is not 32 bytes"));
    }
    let mut buf = [0u8; 33];
    let n = STANDARD
        .decode_slice(s, &mut buf)
        .map_err(|_| CheckpointError::Malformed("root hash is not valid base64"))?;
    if n != 32 {
        return Err(CheckpointError::Malformed("root hash is not 32 bytes"));
    }
    let mut root = [0u8; 32];
    root.copy_from_slice(&buf[..32]);
    Ok(root)
}

/// Signs a checkpoint as a signed note. The signer's key name must equal the
/// origin (see [`CheckpointError::OriginMismatch`]).
pub fn sign_checkpoint(
    signer: &NoteSigner,
    checkpoint: &Checkpoint,
) -> Result<String, CheckpointError> {
    validate_origin(&checkpoint.origin)?;
    if signer.name() != checkpoint.origin {
        return Err(CheckpointError::OriginMismatch {
            origin: checkpoint.origin.clone(),
            key_name: signer.name().to_owned(),
        });
    }
    Ok(signer.sign(&checkpoint.to_note_text())?)
}

/// Verifies a signed checkpoint with the log's key and parses it. Other
/// signatures (witness cosignatures, rotated keys) are ignored; the log's
/// signature must be present and valid, and the origin must equal the key
/// name.
pub fn open_checkpoint(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, CheckpointError> {
    let opened = open_note(note, std::slice::from_ref(verifier))?;
    let checkpoint = Checkpoint::parse(&opened.text)?;
    if checkpoint.origin != verifier.name() {
        return Err(CheckpointError::OriginMismatch {
            origin: checkpoint.origin,
            key_name: verifier.name().to_owned(),
        });
    }
    Ok(checkpoint)
}
