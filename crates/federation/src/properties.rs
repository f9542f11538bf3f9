//! Property tests across the modules: for any sender and any set of readers among six
//! states, exactly those states can read the message, and no rewriting of the envelope by a
//! state outside it gets it in.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::Signer;
use proptest::prelude::*;
use time::macros::datetime;
use time::OffsetDateTime;

use crate::directory::{Directory, Peer, PeerUrl};
use crate::envelope::{age_decrypt, open, seal, Envelope, MessageId, MessageKind, Rejection};
use crate::identity::tests::identity;
use crate::identity::NodeIdentity;
use crate::receipt::Receipt;
use crate::replay::{receive, Received, ReplayGuard};

const STATES: [&str; 6] = ["KE", "UG", "TZ", "RW", "BI", "SS"];
const AT: OffsetDateTime = datetime!(2025-03-01 09:30:00 UTC);

struct Federation {
    nodes: Vec<NodeIdentity>,
    /// Every node's directory: all six, itself included (harmless: a node checks its own
    /// messages under its own key).
    directory: Directory,
}

/// Generated once: key generation is cheap, but there is no reason to repeat it per case.
fn federation() -> &'static Federation {
    static FEDERATION: OnceLock<Federation> = OnceLock::new();
    FEDERATION.get_or_init(|| {
        let nodes: Vec<NodeIdentity> = STATES
            .iter()
            .zip(1u64..)
            .map(|(state, seed)| identity(state, seed))
            .collect();
        let mut directory = Directory::new();
        for node in &nodes {
            directory
                .add(Peer {
                    identity: node.public().clone(),
                    url: PeerUrl::parse(&format!("https://{}.example", node.state())).unwrap(),
                })
                .unwrap();
        }
        Federation { nodes, directory }
    })
}

fn resign(env: &mut Envelope, signer: &NodeIdentity) {
    env.signature = STANDARD.encode(signer.signing_key().sign(&env.signed_bytes()).to_bytes());
}

fn ciphertext(env: &Envelope) -> Vec<u8> {
    STANDARD.decode(&env.ciphertext).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn exactly_the_involved_states_can_read(
        sender in 0usize..6,
        readers in 1u8..64,
        id in any::<[u8; 16]>(),
        payload in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let fed = federation();
        let reader_set: Vec<usize> = (0..6).filter(|i| readers & (1 << i) != 0).collect();
        // The sender alone is no audience; the generator must name someone else.
        prop_assume!(reader_set.iter().any(|&i| i != sender));
        let involved = |i: usize| i == sender || reader_set.contains(&i);
        let reader_keys: Vec<_> =
            reader_set.iter().map(|&i| fed.nodes[i].public().clone()).collect();
        let env = seal(
            &fed.nodes[sender],
            &reader_keys,
            MessageKind::TraceRequest,
            MessageId::from_bytes(id),
            AT,
            &payload,
        )
        .unwrap();

        let expected_to: Vec<&str> = {
            let mut v: Vec<&str> = (0..6).filter(|&i| involved(i)).map(|i| STATES[i]).collect();
            v.sort_unstable();
            v
        };
        prop_assert_eq!(&env.to, &expected_to);

        for (i, node) in fed.nodes.iter().enumerate() {
            // The age layer alone, whatever the header says: only the involved can decrypt.
            prop_assert_eq!(
                age_decrypt(&ciphertext(&env), node).is_ok(),
                involved(i),
                "age decryption by {}", STATES[i]
            );
            match open(&env, node, &fed.directory) {
                Ok(opened) => {
                    prop_assert!(involved(i), "{} opened it", STATES[i]);
                    prop_assert_eq!(opened.payload(), &payload[..]);
                    prop_assert_eq!(opened.header().from(), fed.nodes[sender].state());
                }
                Err(rejection) => {
                    prop_assert!(!involved(i), "{} refused: {}", STATES[i], rejection);
                    prop_assert_eq!(rejection, Rejection::NotAddressedToMe { me: node.state() });
                }
            }
        }

        for (i, outsider) in fed.nodes.iter().enumerate().filter(|(i, _)| !involved(*i)) {
            // Adding itself to `to` breaks the sender's signature.
            let mut widened = env.clone();
            widened.to.push(STATES[i].to_owned());
            prop_assert_eq!(
                open(&widened, outsider, &fed.directory).unwrap_err(),
                Rejection::BadSignature { from: fed.nodes[sender].state() }
            );
            // Signing the widened envelope as the sender with its own key: still the
            // sender's name, so still checked under the sender's key.
            let mut forged = widened.clone();
            resign(&mut forged, outsider);
            prop_assert_eq!(
                open(&forged, outsider, &fed.directory).unwrap_err(),
                Rejection::BadSignature { from: fed.nodes[sender].state() }
            );
            // Taking the message over under its own name: the signature is now valid, but the
            // ciphertext was never encrypted to it ...
            let mut taken = widened;
            taken.from = STATES[i].to_owned();
            resign(&mut taken, outsider);
            prop_assert!(matches!(
                open(&taken, outsider, &fed.directory).unwrap_err(),
                Rejection::CannotDecrypt(_)
            ));
            // ... and a reader given that envelope refuses it: the content was sealed under
            // the real sender's header.
            let reader = &fed.nodes[reader_set.iter().copied().find(|&r| r != sender).unwrap()];
            prop_assert_eq!(
                open(&taken, reader, &fed.directory).unwrap_err(),
                Rejection::HeaderMismatch
            );
        }
    }

    #[test]
    fn each_recipient_receives_once_and_its_receipt_verifies(
        sender in 0usize..6,
        readers in 1u8..64,
    ) {
        let fed = federation();
        let reader_set: Vec<usize> =
            (0..6).filter(|&i| readers & (1 << i) != 0 && i != sender).collect();
        prop_assume!(!reader_set.is_empty());
        let keys: Vec<_> = reader_set.iter().map(|&i| fed.nodes[i].public().clone()).collect();
        let env = seal(
            &fed.nodes[sender],
            &keys,
            MessageKind::Answer,
            MessageId::from_bytes([7; 16]),
            AT,
            b"answer",
        )
        .unwrap();
        let guard = ReplayGuard::default();
        let now = AT + time::Duration::seconds(3);
        for &r in &reader_set {
            let me = &fed.nodes[r];
            let mut seen = std::collections::HashSet::new();
            let first = receive(&env, me, &fed.directory, &guard, now, &seen).unwrap();
            let Received::New(opened) = first else {
                return Err(TestCaseError::fail("first delivery is new"));
            };
            seen.insert((opened.header().from(), opened.header().id()));
            let receipt = Receipt::issue(me, opened.header(), now).unwrap();
            let verified = receipt.verify(&env, &fed.directory).unwrap();
            prop_assert_eq!(verified.receiver, me.state());
            let again = receive(&env, me, &fed.directory, &guard, now, &seen).unwrap();
            let Received::Duplicate(header) = again else {
                return Err(TestCaseError::fail("second delivery is a duplicate"));
            };
            // The duplicate is answered with the same receipt.
            prop_assert_eq!(Receipt::issue(me, &header, now).unwrap(), receipt);
        }
    }
}
