//! Which agency holds an item: the agencies' holdings rules (holder name and/or kind, see
//! `tracemark_domain::account::Holdings`) applied to the item's current holder, as the
//! projection records it (the actor object of the event that last changed hands).
//!
//! Need-to-know (the search index's custodian, the policy's `holder_agency`) and hit
//! notifications (whom to tell of a hit on an item it reported lost or stolen) both ask here,
//! so that they can never disagree.

use crate::query::ItemHistory;
use sha2::{Digest, Sha256};
use tracemark_domain::account::{holding_agency, AgencyHoldings, Holdings};
use tracemark_domain::model::EventType;
use tracemark_store::AgencyRow;

/// The agencies' rules, for the matcher.
pub fn rules(agencies: &[AgencyRow]) -> Vec<AgencyHoldings> {
    agencies
        .iter()
        .filter_map(|a| {
            let holdings = Holdings::new(a.holder_name.as_deref(), a.holder_kind.as_deref())?;
            Some(AgencyHoldings {
                agency: a.name.clone(),
                holdings,
                need_to_know: a.need_to_know,
            })
        })
        .collect()
}

/// The holder's name and kind from the projection's actor JSON.
pub fn holder_name_kind(holder_json: &str) -> (Option<String>, Option<String>) {
    match serde_json::from_str::<serde_json::Value>(holder_json) {
        Ok(v) => (
            v.get("name").and_then(|n| n.as_str()).map(str::to_owned),
            v.get("kind").and_then(|n| n.as_str()).map(str::to_owned),
        ),
        Err(_) => (None, None),
    }
}

/// The agency holding an item whose current holder is `holder_json` (any agency, restricted
/// or not).
pub fn holder_agency<'a>(
    rules: &'a [AgencyHoldings],
    holder_json: Option<&str>,
) -> Option<&'a AgencyHoldings> {
    let (name, kind) = holder_name_kind(holder_json?);
    holding_agency(rules, name.as_deref(), kind.as_deref())
}

/// The need-to-know custodian of an item: the agency holding it, if its holdings are
/// need-to-know.
pub fn custodian(rules: &[AgencyHoldings], holder_json: Option<&str>) -> Option<String> {
    holder_agency(rules, holder_json)
        .filter(|a| a.need_to_know)
        .map(|a| a.agency.clone())
}

/// A digest of the rules that decide custodians: the search snapshot is stamped with it and
/// rebuilt when it changes (an agency added, or its holdings redefined).
pub fn fingerprint(rules: &[AgencyHoldings]) -> [u8; 32] {
    let mut lines: Vec<String> = rules
        .iter()
        .map(|r| format!("{:?}\u{1f}{}", r.holdings, r.agency))
        .chain(
            rules
                .iter()
                .filter(|r| r.need_to_know)
                .map(|r| format!("ntk\u{1f}{}", r.agency)),
        )
        .collect();
    lines.sort();
    let mut h = Sha256::new();
    for l in lines {
        h.update(l.as_bytes());
        h.update([0u8]);
    }
    h.finalize().into()
}

/// A report of loss or theft on an item's record, and the agency that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossReport {
    /// Ledger index of the report.
    pub seq: u64,
    /// `reported_lost` or `reported_stolen`.
    pub event_type: String,
    pub date: String,
    /// The agency that reported it: the one that recorded it through the API (the ledger's
    /// `recorded_by` is `user:NAME@AGENCY` or `service:NAME@AGENCY`), else the agency
    /// holding the item when it went missing. `None` if neither is known.
    pub agency: Option<String>,
}

/// The latest standing (not voided) report of loss or theft on the item, if any.
pub fn loss_report(history: &ItemHistory, rules: &[AgencyHoldings]) -> Option<LossReport> {
    let p = &history.projection;
    // Events are in chronological order.
    let at = p.events.iter().rposition(|e| {
        !e.void
            && matches!(
                e.event.event_type,
                EventType::ReportedLost | EventType::ReportedStolen
            )
    })?;
    let e = &p.events[at];
    let by_recorder = history
        .recorded
        .get(&e.seq)
        .and_then(|(_, by)| recorder_agency(by));
    let by_holder = || {
        // The holder it went missing from: the report's `from`, else the holder before it.
        let from = e
            .object
            .get("from")
            .filter(|v| v.is_object())
            .map(|v| v.to_string());
        let before = p.events[..at]
            .iter()
            .filter(|x| !x.void)
            .filter_map(|x| x.holder_after.as_ref())
            .next_back()
            .map(|a| crate::import::actor_json(a).to_string());
        holder_agency(rules, from.or(before).as_deref()).map(|a| a.agency.clone())
    };
    Some(LossReport {
        seq: e.seq,
        event_type: e.event.event_type.as_str().to_owned(),
        date: e.event.date.as_str().to_owned(),
        agency: by_recorder.or_else(by_holder),
    })
}

/// The agency in a `recorded_by` written by the API (`user:NAME@AGENCY`).
pub fn recorder_agency(recorded_by: &str) -> Option<String> {
    let rest = recorded_by
        .strip_prefix("user:")
        .or_else(|| recorded_by.strip_prefix("service:"))?;
    let (_, agency) = rest.rsplit_once('@')?;
    tracemark_domain::account::AgencyName::parse(agency)
        .ok()
        .map(|a| a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agency(name: &str, holder_kind: Option<&str>, ntk: bool) -> AgencyRow {
        AgencyRow {
            name: name.into(),
            kind: "other".into(),
            holder_name: None,
            holder_kind: holder_kind.map(str::to_owned),
            need_to_know: ntk,
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn custodians_follow_the_holder_and_need_to_know() {
        let rules = rules(&[
            agency("defence", Some("armed_forces"), true),
            agency("police", Some("police"), false),
            agency("registry", None, false),
        ]);
        assert_eq!(rules.len(), 2, "an agency without holdings has no rule");
        let army = r#"{"name":"1st Battalion","kind":"armed_forces"}"#;
        let station = r#"{"name":"Central Station","kind":"police"}"#;
        assert_eq!(custodian(&rules, Some(army)).as_deref(), Some("defence"));
        assert_eq!(custodian(&rules, Some(station)), None);
        assert_eq!(
            holder_agency(&rules, Some(station)).map(|a| a.agency.as_str()),
            Some("police")
        );
        assert_eq!(custodian(&rules, None), None);
        assert_eq!(custodian(&rules, Some("not json")), None);
        let mut reordered = rules.clone();
        reordered.reverse();
        assert_eq!(fingerprint(&rules), fingerprint(&reordered));
        assert_ne!(fingerprint(&rules), fingerprint(&rules[..1]));
    }

    #[test]
    fn the_recorder_names_its_agency() {
        assert_eq!(
            recorder_agency("user:j.kamau@police").as_deref(),
            Some("police")
        );
        assert_eq!(
            recorder_agency("service:gw@customs").as_deref(),
            Some("customs")
        );
        assert_eq!(recorder_agency("cli:import"), None);
        assert_eq!(recorder_agency("user:x@Not An Agency"), None);
        assert_eq!(recorder_agency("user:nobody"), None);
    }
}
