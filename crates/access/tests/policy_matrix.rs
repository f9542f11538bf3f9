//! The shipped policy set, exhaustively: every role × agency relation × action × second
//! factor, against a table written from the policy file's documentation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tracemark_access::policy::{Action, PolicyEngine, Principal, PrincipalKind, Resource};
use tracemark_domain::account::Role;

/// Which roles each action is granted to (before need-to-know and MFA).
fn granted(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        ReadItem | Search => matches!(
            role,
            RegistryClerk
                | Investigator
                | TracingOfficer
                | LicensingOfficer
                | StockpileManager
                | Analyst
        ),
        ReadCustody => matches!(
            role,
            Investigator | TracingOfficer | LicensingOfficer | StockpileManager
        ),
        Record => matches!(role, RegistryClerk | StockpileManager),
        ReadLedger => matches!(
            role,
            RegistryClerk | TracingOfficer | Auditor | Administrator
        ),
        ReadAudit => role == Auditor,
        Administer => role == Administrator,
        ReadTrace | Trace => role == TracingOfficer,
        ReadTraceFigures => matches!(role, TracingOfficer | Analyst),
        ReadOutbox => matches!(role, TracingOfficer | Administrator),
        ReadNotifications => matches!(
            role,
            RegistryClerk
                | Investigator
                | TracingOfficer
                | LicensingOfficer
                | StockpileManager
                | Analyst
        ),
    }
}

#[derive(Debug, Clone, Copy)]
enum Holder {
    /// Not an item, or an item not held by a need-to-know agency.
    Open,
    /// An item held by the principal's own need-to-know agency.
    Own,
    /// An item held by another agency's need-to-know holdings.
    Other,
}

#[test]
fn role_agency_action_matrix() {
    let engine = PolicyEngine::new(&[]).unwrap();
    let mut checked = 0;
    for role in Role::ALL {
        for action in Action::ALL {
            for holder in [Holder::Open, Holder::Own, Holder::Other] {
                for mfa in [true, false] {
                    for kind in [PrincipalKind::User, PrincipalKind::Service] {
                        let who = Principal {
                            kind,
                            name: "someone".into(),
                            agency: "police".into(),
                            role,
                            mfa,
                        };
                        let item_action = matches!(action, Action::ReadItem | Action::ReadCustody);
                        let resource = match (item_action, holder) {
                            (false, _) | (true, Holder::Open) => {
                                if item_action {
                                    Resource::Item {
                                        key: "KE-1".into(),
                                        holder_agency: None,
                                    }
                                } else {
                                    Resource::Registry
                                }
                            }
                            (true, Holder::Own) => Resource::Item {
                                key: "KE-1".into(),
                                holder_agency: Some("police".into()),
                            },
                            (true, Holder::Other) => Resource::Item {
                                key: "KE-1".into(),
                                holder_agency: Some("mod-armoury".into()),
                            },
                        };
                        let need_to_know_blocks = item_action
                            && matches!(holder, Holder::Other)
                            && role != Role::TracingOfficer;
                        let mfa_blocks = role.is_privileged() && !mfa;
                        let expected = granted(role, action) && !need_to_know_blocks && !mfa_blocks;
                        let d = engine.decide(&who, action, &resource, "").unwrap();
                        assert_eq!(
                            d.allowed, expected,
                            "{role} {action:?} {holder:?} mfa={mfa} {kind:?}: {:?}",
                            d.reasons
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 8 * 12 * 3 * 2 * 2);
}

#[test]
fn a_deployment_can_add_a_policy() {
    let extra = r#"
        @id("analysts-read-custody-with-purpose")
        permit (principal, action == Tracemark::Action::"read_custody", resource)
        when { principal.role == "analyst" && context.purpose like "case *" };
    "#;
    let engine = PolicyEngine::new(&[extra.to_owned()]).unwrap();
    let analyst = Principal {
        kind: PrincipalKind::User,
        name: "a".into(),
        agency: "police".into(),
        role: Role::Analyst,
        mfa: false,
    };
    let item = Resource::Item {
        key: "KE-1".into(),
        holder_agency: None,
    };
    assert!(
        engine
            .decide(&analyst, Action::ReadCustody, &item, "case 12/2026")
            .unwrap()
            .allowed
    );
    assert!(
        !engine
            .decide(&analyst, Action::ReadCustody, &item, "curiosity")
            .unwrap()
            .allowed
    );
    assert!(PolicyEngine::new(&["permit (".to_owned()]).is_err());
}
