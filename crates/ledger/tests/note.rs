//! Signed notes and checkpoints against the C2SP specifications copied in
//! `tests/c2sp/` (see NOTICE.md there) and the known-answer example from the
//! documentation of Go's `golang.org/x/mod/sumdb/note`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;

use tracemark_ledger::checkpoint::{open_checkpoint, sign_checkpoint, Checkpoint, CheckpointError};
use tracemark_ledger::merkle::{leaf_hash, Hash};
use tracemark_ledger::note::{open_note, NoteError, NoteSigner, NoteVerifier, MAX_SIGNATURES};

/// c2sp.org/signed-note, section "Example".
const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

/// golang.org/x/mod/sumdb/note package documentation, "Example".
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIG_LINE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn spec(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c2sp")
        .join(name);
    ok(std::fs::read_to_string(path))
}

fn signer(name: &str, byte: u8) -> NoteSigner {
    ok(NoteSigner::from_seed(name, &[byte; 32]))
}

#[test]
fn reference_copies_are_present_with_notice() {
    assert!(spec("NOTICE.md").contains("C2SP/C2SP"));
    let doc = spec("signed-note.md");
    // The constants above are the spec's example, verbatim.
    assert!(doc.contains(SPEC_VKEY));
    let sig_line = SPEC_NOTE.lines().last().unwrap_or_default();
    assert!(doc.contains(sig_line));
    assert!(doc.contains("This is an example message."));
}

#[test]
fn spec_example_verifies() {
    let v = ok(NoteVerifier::new(SPEC_VKEY));
    assert_eq!(v.name(), "example.com/foo");
    assert_eq!(v.key_id(), 0x530d903a);
    assert_eq!(v.to_string(), SPEC_VKEY);
    let note = ok(open_note(SPEC_NOTE, std::slice::from_ref(&v)));
    assert_eq!(note.text, "This is an example message.\n");
    assert_eq!(note.verified.len(), 1);
    assert_eq!(note.verified[0].key_id, 0x530d903a);
    assert!(note.unverified.is_empty());
}

#[test]
fn go_known_answer() {
    let s = ok(NoteSigner::from_private_key_string(GO_SKEY));
    assert_eq!(s.name(), "PeterNeumann");
    assert_eq!(s.key_id(), 0xc74f20a3);
    assert_eq!(s.verifier_key(), GO_VKEY);
    assert_eq!(s.to_private_key_string().as_str(), GO_SKEY);
    // Ed25519 is deterministic, so the note must be Go's byte for byte.
    let note = ok(s.sign(GO_TEXT));
    assert_eq!(note, format!("{GO_TEXT}\n{GO_SIG_LINE}"));
    let v = ok(NoteVerifier::new(GO_VKEY));
    assert_eq!(ok(open_note(&note, &[v])).text, GO_TEXT);
}

#[test]
fn tampered_text_is_rejected() {
    let v = ok(NoteVerifier::new(SPEC_VKEY));
    let tampered = SPEC_NOTE.replacen("example", "exbmple", 1);
    assert!(matches!(
        open_note(&tampered, &[v]),
        Err(NoteError::InvalidSignature { .. })
    ));
}

#[test]
fn wrong_key_with_same_name_and_id_is_rejected() {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    // Two keys with the same name. Take b's signature and relabel it with
    // a's key ID: to a verifier knowing a, this is a signature from a known
    // key that does not verify, which must reject the whole note.
    let a = signer("log.example/a", 1);
    let b = signer("log.example/a", 2);
    let note = ok(b.sign("hello\n"));
    let b64 = note
        .lines()
        .last()
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or_default();
    let mut raw = ok(STANDARD.decode(b64));
    raw[..4].copy_from_slice(&a.key_id().to_be_bytes());
    let relabelled = format!(
        "hello\n\n\u{2014} log.example/a {}\n",
        STANDARD.encode(&raw)
    );
    assert!(matches!(
        open_note(&relabelled, &[a.verifier()]),
        Err(NoteError::InvalidSignature { .. })
    ));
    // b's own note shown to a verifier that only knows a: same name but a
    // different ID, so the signature is from an unknown key and ignored;
    // nothing verifies.
    assert!(matches!(
        open_note(&note, &[a.verifier()]),
        Err(NoteError::NoKnownSignature)
    ));
}

#[test]
fn unknown_keys_are_ignored() {
    let log = signer("log.example", 3);
    let witness = signer("witness.example", 4);
    let note = ok(log.sign("size 5\n"));
    // Append a witness cosignature line.
    let witness_note = ok(witness.sign("size 5\n"));
    let witness_line = witness_note.lines().last().unwrap_or_default();
    let both = format!("{note}{witness_line}\n");
    let opened = ok(open_note(&both, &[log.verifier()]));
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.unverified.len(), 1);
    assert_eq!(opened.unverified[0].name, "witness.example");
    // With both keys known, both verify.
    let opened = ok(open_note(&both, &[log.verifier(), witness.verifier()]));
    assert_eq!(opened.verified.len(), 2);
    // Only unknown signatures: rejected.
    assert!(matches!(
        open_note(&both, &[signer("other", 5).verifier()]),
        Err(NoteError::NoKnownSignature)
    ));
}

#[test]
fn sign_and_open_round_trip_with_generated_key() {
    let s = ok(NoteSigner::generate("registry.example/log"));
    let v = ok(NoteVerifier::new(&s.verifier_key()));
    assert_eq!(v, s.verifier());
    // Text may contain blank lines: the last one separates the signatures.
    let text = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u{e8} subito sera.\n";
    let note = ok(s.sign(text));
    assert_eq!(ok(open_note(&note, &[v])).text, text);
}

#[test]
fn private_key_string_round_trips_and_rejects_manglings() {
    let s = ok(NoteSigner::generate("registry.example/log"));
    let pk = s.to_private_key_string();
    let back = ok(NoteSigner::from_private_key_string(&pk));
    assert_eq!(back.verifier_key(), s.verifier_key());
    assert_eq!(back.key_id(), s.key_id());
    // Signatures are deterministic, so equal keys sign equally.
    assert_eq!(ok(back.sign("x\n")), ok(s.sign("x\n")));

    // As in Go's tests: every proper substring and every single-byte change
    // of the key string must be refused.
    let b = GO_SKEY.as_bytes();
    for i in 0..b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let sub = std::str::from_utf8(&b[i..j]).unwrap_or_default();
            assert!(NoteSigner::from_private_key_string(sub).is_err(), "{sub:?}");
        }
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(1);
        if let Ok(m) = std::str::from_utf8(&m) {
            assert!(NoteSigner::from_private_key_string(m).is_err(), "{m:?}");
        }
    }
    // Errors must not echo the secret.
    let Err(e) = NoteSigner::from_private_key_string(&GO_SKEY.replace("c74f20a3", "c74f20a4"))
    else {
        panic!("mismatched key ID accepted");
    };
    assert!(!e.to_string().contains("AYEKFALV"));
}

#[test]
fn verifier_key_manglings_are_rejected() {
    let b = GO_VKEY.as_bytes();
    for i in 0..b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let sub = std::str::from_utf8(&b[i..j]).unwrap_or_default();
            assert!(NoteVerifier::new(sub).is_err(), "{sub:?}");
        }
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(1);
        if let Ok(m) = std::str::from_utf8(&m) {
            assert!(NoteVerifier::new(m).is_err(), "{m:?}");
        }
    }
    // Wrong length key and unknown algorithm, with adjusted key IDs (from
    // Go's tests).
    assert!(NoteVerifier::new(
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
    )
    .is_err());
    assert!(matches!(
        NoteVerifier::new("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(NoteError::UnsupportedAlgorithm(0x65))
    ));
}

#[test]
fn invalid_key_names_are_refused() {
    for bad in ["", "has space", "has+plus", "nbsp\u{a0}x", "tab\tx"] {
        assert!(NoteSigner::generate(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn malformed_notes_are_rejected() {
    let v = ok(NoteVerifier::new(SPEC_VKEY));
    let vs = std::slice::from_ref(&v);
    // Control character in the text.
    let ctl = SPEC_NOTE.replacen("example", "ex\u{7}ample", 1);
    assert!(matches!(
        open_note(&ctl, vs),
        Err(NoteError::MalformedNote(_))
    ));
    // CR is a control character too.
    let cr = SPEC_NOTE.replace('\n', "\r\n");
    assert!(open_note(&cr, vs).is_err());
    // No blank line, missing final newline, garbage line after signatures.
    assert!(open_note("This is an example message.\n", vs).is_err());
    assert!(open_note(SPEC_NOTE.trim_end_matches('\n'), vs).is_err());
    assert!(open_note(&format!("{SPEC_NOTE}garbage\n"), vs).is_err());
    // Signature too short to hold a key ID.
    assert!(open_note("text\n\n\u{2014} example.com/foo AAAA\n", vs).is_err());
    assert!(open_note("", vs).is_err());
}

#[test]
fn signature_count_is_capped_but_at_least_16_are_accepted() {
    let log = signer("log.example", 9);
    let text = "t\n";
    let mut note = ok(log.sign(text));
    let mut names = Vec::new();
    for i in 0..(MAX_SIGNATURES - 1) {
        let w = signer(&format!("w{i}.example"), 10 + (i % 200) as u8);
        let line = ok(w.sign(text))
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned();
        names.push(w);
        note.push_str(&line);
        note.push('\n');
        if i + 2 == 16 {
            assert!(open_note(&note, &[log.verifier()]).is_ok());
        }
    }
    let opened = ok(open_note(&note, &[log.verifier()]));
    assert_eq!(opened.unverified.len(), MAX_SIGNATURES - 1);
    let extra = ok(signer("one-too-many", 1).sign(text));
    note.push_str(extra.lines().last().unwrap_or_default());
    note.push('\n');
    assert!(matches!(
        open_note(&note, &[log.verifier()]),
        Err(NoteError::TooManySignatures)
    ));
}

// --- checkpoints ---

fn sample_root() -> Hash {
    leaf_hash(b"sample")
}

#[test]
fn spec_checkpoint_text_parses_and_round_trips() {
    let doc = spec("tlog-checkpoint.md");
    let text =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert!(doc.contains(text));
    let cp = ok(Checkpoint::parse(text));
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20_852_163);
    assert_eq!(cp.to_note_text(), text);
    // The spec's full signed example: its key is unknown to us, so opening it
    // with some other key fails (no known signature), as it must.
    let start = doc
        .find("example.com/behind-the-sofa\n")
        .unwrap_or_default();
    let end = doc[start..]
        .find("\n```")
        .map(|e| start + e + 1)
        .unwrap_or_default();
    let note = &doc[start..end];
    let v = signer("example.com/behind-the-sofa", 1).verifier();
    assert!(matches!(
        open_checkpoint(note, &v),
        Err(CheckpointError::Note(NoteError::NoKnownSignature))
    ));
}

#[test]
fn checkpoint_sign_and_open() {
    let s = signer("registry.example/log", 7);
    let cp = Checkpoint {
        origin: "registry.example/log".into(),
        size: 12345,
        root: sample_root(),
    };
    let note = ok(sign_checkpoint(&s, &cp));
    assert!(note.starts_with(&cp.to_note_text()));
    assert_eq!(ok(open_checkpoint(&note, &s.verifier())), cp);
    // Tampered size.
    let bad = note.replacen("12345", "12346", 1);
    assert!(open_checkpoint(&bad, &s.verifier()).is_err());
    // Key name differing from the origin is refused both ways.
    let other = signer("other.example", 7);
    assert!(matches!(
        sign_checkpoint(&other, &cp),
        Err(CheckpointError::OriginMismatch { .. })
    ));
    let note_by_other = ok(other.sign(&cp.to_note_text()));
    assert!(matches!(
        open_checkpoint(&note_by_other, &other.verifier()),
        Err(CheckpointError::OriginMismatch { .. })
    ));
}

#[test]
fn checkpoint_parsing_is_strict() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let good = format!("o\n0\n{root}\n");
    assert_eq!(ok(Checkpoint::parse(&good)).size, 0);
    let (cp, ext) = ok(Checkpoint::parse_with_extensions(&format!(
        "o\n7\n{root}\next one\nx2\n"
    )));
    assert_eq!(cp.size, 7);
    assert_eq!(ext, vec!["ext one".to_owned(), "x2".to_owned()]);
    let bad = [
        format!("o\n07\n{root}\n"),                   // leading zero
        format!("o\n00\n{root}\n"),                   // leading zero
        format!("o\n+7\n{root}\n"),                   // sign
        format!("o\n-1\n{root}\n"),                   // negative
        format!("o\n 7\n{root}\n"),                   // space
        format!("o\n\n{root}\n"),                     // empty size
        format!("o\n18446744073709551616\n{root}\n"), // overflow
        format!("\n7\n{root}\n"),                     // empty origin
        format!("o\n7\n{root}"),                      // no final newline
        format!("o\n7\n{root}\n\n"),                  // empty extension line
        format!("o\n7\n{root}\nx\n\ny\n"),            // empty extension line
        "o\n7\n".to_owned(),                          // no root
        "o\n7\nV3JvbmdSb290\n".to_owned(),            // 9-byte root
        "o\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".to_owned(), // stray bits
        "o\n7\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n".to_owned(), // URL alphabet
        format!("o\n7\n{root}=\n"),                   // extra padding
        format!("o\r\n7\n{root}\n"),                  // control char
    ];
    for text in &bad {
        assert!(Checkpoint::parse(text).is_err(), "{text:?}");
    }
    assert_eq!(
        ok(Checkpoint::parse(&format!(
            "o\n18446744073709551615\n{root}\n"
        )))
        .size,
        u64::MAX
    );
}
