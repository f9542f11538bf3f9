//! The authorization decision, made by the Cedar policy set shipped in
//! `policies/tracemark.cedar` (its header documents the entities, actions and context), plus
//! any policies a deployment adds. Handlers never test roles themselves: they build a
//! [`Principal`], an [`Action`] and a [`Resource`] and ask [`PolicyEngine::decide`].

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet, Request,
    RestrictedExpression,
};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use tracemark_domain::account::Role;

/// The shipped policy set.
pub const SHIPPED_POLICIES: &str = include_str!("../../../policies/tracemark.cedar");

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy set does not parse: {0}")]
    Parse(String),
    #[error("building the authorization request failed: {0}")]
    Request(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A person with a session.
    User,
    /// A system with a bearer token.
    Service,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub name: String,
    pub agency: String,
    pub role: Role,
    /// Whether the principal proved a second factor at sign-in.
    pub mfa: bool,
}

impl Principal {
    /// `user:alice` or `service:gateway`, as written in the audit log.
    pub fn id(&self) -> String {
        match self.kind {
            PrincipalKind::User => format!("user:{}", self.name),
            PrincipalKind::Service => format!("service:{}", self.name),
        }
    }
}

/// What is asked for; the names are the policy set's action ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ReadItem,
    ReadCustody,
    Search,
    Record,
    ReadLedger,
    ReadAudit,
    Administer,
    ReadNotifications,
    /// Trace requests and answers on record (their steps, the overdue list).
    ReadTrace,
    /// Taking a step of a trace: draft, amend, send, chain, acknowledge, answer, follow up,
    /// close.
    Trace,
    /// The trace figures: counts, response times per state, SDG 16.4.2 (no case data).
    ReadTraceFigures,
    /// The federation outbox: where each message stands (no message content).
    ReadOutbox,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::ReadItem,
        Action::ReadCustody,
        Action::Search,
        Action::Record,
        Action::ReadLedger,
        Action::ReadAudit,
        Action::Administer,
        Action::ReadNotifications,
        Action::ReadTrace,
        Action::Trace,
        Action::ReadTraceFigures,
        Action::ReadOutbox,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadItem => "read_item",
            Action::ReadCustody => "read_custody",
            Action::Search => "search",
            Action::Record => "record",
            Action::ReadLedger => "read_ledger",
            Action::ReadAudit => "read_audit",
            Action::Administer => "administer",
            Action::ReadNotifications => "read_notifications",
            Action::ReadTrace => "read_trace",
            Action::Trace => "trace",
            Action::ReadTraceFigures => "read_trace_figures",
            Action::ReadOutbox => "read_outbox",
        }
    }
}

/// What it is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// An item; `holder_agency` is set when its current holder is a registered agency whose
    /// holdings are need-to-know.
    Item {
        key: String,
        holder_agency: Option<String>,
    },
    /// The registry as a whole (search, import, ledger, audit, administration).
    Registry,
}

/// The decision and the ids of the policies that made it (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reasons: Vec<String>,
}

pub struct PolicyEngine {
    policies: PolicySet,
    authorizer: Authorizer,
    types: EntityTypes,
    /// Decisions already taken, by everything they depend on. The policy set never changes
    /// after `new` and Cedar's evaluation is a pure function of the request, its entities and
    /// the set, so a remembered decision is the decision; it saves the evaluation that every
    /// search repeats per custodian agency. Bounded: emptied when full.
    cache: std::sync::Mutex<HashMap<DecisionKey, Decision>>,
}

/// Every input of a decision.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct DecisionKey {
    principal_kind: PrincipalKind,
    name: String,
    agency: String,
    role: &'static str,
    mfa: bool,
    action: Action,
    /// `None` for the registry; the item key and its holder agency otherwise.
    item: Option<(String, Option<String>)>,
    purpose: String,
}

/// Remembered decisions at most (a few MB at most).
const DECISION_CACHE_ENTRIES: usize = 16_384;

/// The entity type names, parsed once: Cedar parses a type name with its full grammar, and
/// doing that for every entity of every decision was the largest single cost of an
/// authorized look-up.
struct EntityTypes {
    user: EntityTypeName,
    service: EntityTypeName,
    item: EntityTypeName,
    registry: EntityTypeName,
    action: EntityTypeName,
}

impl EntityTypes {
    fn new() -> Result<EntityTypes, PolicyError> {
        let parse =
            |t: &str| EntityTypeName::from_str(t).map_err(|e| PolicyError::Request(e.to_string()));
        Ok(EntityTypes {
            user: parse("Tracemark::User")?,
            service: parse("Tracemark::Service")?,
            item: parse("Tracemark::Item")?,
            registry: parse("Tracemark::Registry")?,
            action: parse("Tracemark::Action")?,
        })
    }
}

fn uid(t: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(t.clone(), EntityId::new(id))
}

impl PolicyEngine {
    /// The shipped policy set plus `extra` (each the text of a `.cedar` file).
    pub fn new(extra: &[String]) -> Result<PolicyEngine, PolicyError> {
        let mut text = SHIPPED_POLICIES.to_owned();
        for e in extra {
            text.push('\n');
            text.push_str(e);
        }
        let policies =
            PolicySet::from_str(&text).map_err(|e| PolicyError::Parse(format!("{e:?}")))?;
        Ok(PolicyEngine {
            policies,
            authorizer: Authorizer::new(),
            types: EntityTypes::new()?,
            cache: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// May `who` do `action` on `resource`? `purpose` is what the client stated ("" if none).
    /// An error inside the evaluation denies (Cedar's default), it never allows.
    pub fn decide(
        &self,
        who: &Principal,
        action: Action,
        resource: &Resource,
        purpose: &str,
    ) -> Result<Decision, PolicyError> {
        let key = DecisionKey {
            principal_kind: who.kind,
            name: who.name.clone(),
            agency: who.agency.clone(),
            role: who.role.as_str(),
            mfa: who.mfa,
            action,
            item: match resource {
                Resource::Item { key, holder_agency } => Some((key.clone(), holder_agency.clone())),
                Resource::Registry => None,
            },
            purpose: purpose.to_owned(),
        };
        if let Some(d) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(d);
        }
        let d = self.evaluate(who, action, resource, purpose)?;
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= DECISION_CACHE_ENTRIES {
                c.clear();
            }
            c.insert(key, d.clone());
        }
        Ok(d)
    }

    /// [`PolicyEngine::decide`] without the cache: Cedar's evaluation itself.
    fn evaluate(
        &self,
        who: &Principal,
        action: Action,
        resource: &Resource,
        purpose: &str,
    ) -> Result<Decision, PolicyError> {
        let principal_type = match who.kind {
            PrincipalKind::User => &self.types.user,
            PrincipalKind::Service => &self.types.service,
        };
        let principal = uid(principal_type, &who.name);
        let principal_entity = Entity::new(
            principal.clone(),
            HashMap::from([
                (
                    "role".to_owned(),
                    RestrictedExpression::new_string(who.role.as_str().to_owned()),
                ),
                (
                    "agency".to_owned(),
                    RestrictedExpression::new_string(who.agency.clone()),
                ),
            ]),
            HashSet::new(),
        )
        .map_err(|e| PolicyError::Request(e.to_string()))?;
        let (resource_uid, resource_entity) = match resource {
            Resource::Item { key, holder_agency } => {
                let u = uid(&self.types.item, key);
                let mut attrs = HashMap::new();
                if let Some(a) = holder_agency {
                    attrs.insert(
                        "holder_agency".to_owned(),
                        RestrictedExpression::new_string(a.clone()),
                    );
                }
                let e = Entity::new(u.clone(), attrs, HashSet::new())
                    .map_err(|e| PolicyError::Request(e.to_string()))?;
                (u, e)
            }
            Resource::Registry => {
                let u = uid(&self.types.registry, "node");
                (u.clone(), Entity::with_uid(u))
            }
        };
        let entities = Entities::from_entities([principal_entity, resource_entity], None)
            .map_err(|e| PolicyError::Request(e.to_string()))?;
        let context = Context::from_pairs([
            ("mfa".to_owned(), RestrictedExpression::new_bool(who.mfa)),
            (
                "purpose".to_owned(),
                RestrictedExpression::new_string(purpose.to_owned()),
            ),
        ])
        .map_err(|e| PolicyError::Request(e.to_string()))?;
        let request = Request::new(
            principal,
            uid(&self.types.action, action.as_str()),
            resource_uid,
            context,
            None,
        )
        .map_err(|e| PolicyError::Request(e.to_string()))?;
        let answer = self
            .authorizer
            .is_authorized(&request, &self.policies, &entities);
        let mut reasons: Vec<String> = answer
            .diagnostics()
            .reason()
            // The `@id("…")` annotation names a rule for people; Cedar's own ids are positional.
            .map(|id| {
                self.policies
                    .policy(id)
                    .and_then(|p| p.annotation("id"))
                    .map(str::to_owned)
                    .unwrap_or_else(|| id.to_string())
            })
            .collect();
        reasons.sort();
        Ok(Decision {
            allowed: answer.decision() == cedar_policy::Decision::Allow,
            reasons,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache never changes a decision: every role, agency, factor, action, resource and
    /// purpose asked twice (the second time from the cache) agrees with Cedar asked afresh.
    #[test]
    fn remembered_decisions_are_the_decisions() {
        let engine = PolicyEngine::new(&[]).unwrap();
        let resources = [
            Resource::Registry,
            Resource::Item {
                key: "KE-1".into(),
                holder_agency: None,
            },
            Resource::Item {
                key: "KE-2".into(),
                holder_agency: Some("defence".into()),
            },
            Resource::Item {
                key: "KE-2".into(),
                holder_agency: Some("police".into()),
            },
        ];
        for role in Role::ALL {
            for agency in ["police", "defence"] {
                for mfa in [false, true] {
                    let who = Principal {
                        kind: PrincipalKind::User,
                        name: format!("{}-{agency}", role.as_str()),
                        agency: agency.into(),
                        role,
                        mfa,
                    };
                    for action in Action::ALL {
                        for resource in &resources {
                            for purpose in ["", "case 1"] {
                                let fresh =
                                    engine.evaluate(&who, action, resource, purpose).unwrap();
                                for _ in 0..2 {
                                    let d = engine.decide(&who, action, resource, purpose).unwrap();
                                    assert_eq!(d, fresh, "{who:?} {action:?} {resource:?}");
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(!engine.cache.lock().unwrap().is_empty());
    }
}
