//! The trace life-cycle commands: glue over `tracemark_registry::traces`. Every step is taken
//! by the engine in one transaction (the record, the projection row and any outgoing
//! messages together), so a refused step leaves nothing behind.

use super::{read_json, RecordedFor, TraceCommand};
use crate::{open, print_json, Cli, Failure};
use anyhow::Context;
use serde_json::{json, Value};
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracemark_domain::ids::CountryCode;
use tracemark_registry::traces::{self, Actor, Channel, Recorded, Role, StoredTrace, TraceError};
use tracemark_registry::{Node, SystemClock};
use tracemark_trace::completeness::{GapCode, Waiver};
use tracemark_trace::deadlines::ReminderLevel;
use tracemark_trace::figures::Responsiveness;
use tracemark_trace::lifecycle::{Answer, Feedback, OutcomeKind, TraceEvent};
use tracemark_trace::request::TraceRequest;
use tracemark_trace::text::{Rating, Text, TraceId};

/// How an engine refusal maps onto the exit codes: the step or the data was refused (1);
/// anything else is the store or a bug (3).
pub(crate) fn failure(e: TraceError) -> Failure {
    match e {
        // The engine's message repeats the completeness check's own opening.
        TraceError::NotSendable(m) => Failure::Rejected(format!(
            "the request may not be sent: {}",
            m.strip_prefix("the request cannot be sent: ").unwrap_or(&m)
        )),
        TraceError::NotFound(_)
        | TraceError::Exists(_)
        | TraceError::Rules(_)
        | TraceError::WrongSide(_) => Failure::Rejected(e.to_string()),
        TraceError::Federation(f) => crate::federation::failure(f),
        other => Failure::Internal(other.into()),
    }
}

fn now() -> Result<OffsetDateTime, Failure> {
    traces::now_of(&SystemClock).map_err(failure)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn state(flag: &str, s: &str) -> Result<CountryCode, Failure> {
    CountryCode::parse(s.trim()).map_err(|e| Failure::Usage(format!("{flag} '{s}': {e}")))
}

fn states(flag: &str, list: &[String]) -> Result<Vec<CountryCode>, Failure> {
    list.iter().map(|s| state(flag, s)).collect()
}

fn text(flag: &str, s: &str) -> Result<Text, Failure> {
    Text::parse(s).map_err(|e| Failure::Usage(format!("{flag}: {e}")))
}

/// `GAP=explanation`, the gap by its code.
fn waiver(arg: &str) -> Result<Waiver, Failure> {
    let Some((gap, explanation)) = arg.split_once('=') else {
        return Err(Failure::Usage(format!(
            "--waive '{arg}': write GAP=EXPLANATION, e.g. missing_make=ground off"
        )));
    };
    let gap = gap.trim();
    let code = GapCode::ALL
        .iter()
        .copied()
        .find(|c| c.as_str() == gap)
        .ok_or_else(|| {
            let all: Vec<&str> = GapCode::ALL.iter().map(|c| c.as_str()).collect();
            Failure::Usage(format!(
                "--waive: '{gap}' is not a gap code (one of {})",
                all.join(", ")
            ))
        })?;
    Ok(Waiver {
        gap: code,
        explanation: text(&format!("--waive {gap}"), explanation)?,
    })
}

/// `STATE=RATING[:comment]`.
fn feedback(arg: &str) -> Result<Feedback, Failure> {
    let usage = || {
        Failure::Usage(format!(
            "--feedback '{arg}': write STATE=RATING[:COMMENT], the rating 1 (useless) to 5 (decisive)"
        ))
    };
    let (who, rest) = arg.split_once('=').ok_or_else(usage)?;
    let (rating, comment) = match rest.split_once(':') {
        Some((r, c)) => (r, Some(c)),
        None => (rest, None),
    };
    let rating: u8 = rating.trim().parse().map_err(|_| usage())?;
    Ok(Feedback {
        state: state("--feedback", who)?,
        rating: Rating::new(rating)
            .map_err(|e| Failure::Usage(format!("--feedback '{arg}': {e}")))?,
        comment: comment
            .map(|c| text(&format!("--feedback {who} comment"), c))
            .transpose()?,
    })
}

fn channel(name: &str) -> Result<Channel, Failure> {
    serde_json::from_value(Value::String(name.to_owned()))
        .map_err(|_| Failure::Usage(format!("--channel '{name}': not a channel")))
}

fn actor(by: &RecordedFor) -> Result<Actor, Failure> {
    Ok(match (&by.for_state, &by.channel) {
        (Some(s), Some(c)) => Actor::Recorded {
            state: state("--for", s)?,
            channel: channel(c)?,
        },
        (None, None) => Actor::ThisNode,
        _ => {
            return Err(Failure::Usage(
                "--for and --channel go together: the state whose step it was and how it came"
                    .into(),
            ))
        }
    })
}

/// An engine refusal of a requested state's step, with the flags that take the other side.
fn side_failure(this_node: bool) -> impl Fn(TraceError) -> Failure {
    move |e| match e {
        TraceError::WrongSide(m) if this_node => Failure::Rejected(format!(
            "{m} (--for <STATE> --channel <paper|email|fax|phone|interpol>)"
        )),
        TraceError::WrongSide(m) => Failure::Rejected(format!("{m} (without --for and --channel)")),
        other => failure(other),
    }
}

fn note(n: &Option<String>) -> Result<Option<Text>, Failure> {
    n.as_deref().map(|n| text("--note", n)).transpose()
}

/// Prints what a step recorded. `request` when the step sent the request (a state that is
/// not a peer gets the printable request; for later steps, a letter or an e-mail).
fn report(r: &Recorded, request: bool, json: bool) -> Result<ExitCode, Failure> {
    if json {
        print_json(&json!({
            "key": r.key,
            "status": r.status,
            "index": r.index,
            "queued_for": r.queued_for,
            "not_federated": r.not_federated,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}: {} (trace log #{})", r.key, r.status, r.index);
    if !r.queued_for.is_empty() {
        println!("message queued for {}", r.queued_for.join(", "));
    }
    if !r.not_federated.is_empty() && request {
        println!(
            "not federated: {} (not in the peer directory): send them the printable request \
             (`tracemark trace show {} --request | tracemark trace print - --to {}`) and record \
             their steps with --for <STATE> --channel <paper|email|fax|phone|interpol>",
            r.not_federated.join(", "),
            r.key,
            r.not_federated.join(",")
        );
    } else if !r.not_federated.is_empty() {
        println!(
            "not federated: {} (not in the peer directory): tell them by another channel",
            r.not_federated.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(cli: &Cli, command: &TraceCommand) -> Result<ExitCode, Failure> {
    let by = crate::import::recorded_by();
    match command {
        TraceCommand::Create { file, json } => {
            let request: TraceRequest = read_json(file)?;
            let mut node = open(cli)?;
            let r = traces::draft(&mut node, request, &by, now()?).map_err(failure)?;
            if *json {
                print_json(&json!({"key": r.key, "status": r.status, "index": r.index}))?;
            } else {
                println!("{}", r.key);
            }
            Ok(ExitCode::SUCCESS)
        }
        TraceCommand::Amend { key, file, json } => {
            let request: TraceRequest = read_json(file)?;
            let mut node = open(cli)?;
            let r = traces::amend(&mut node, key, request, &by, now()?).map_err(failure)?;
            report(&r, false, *json)
        }
        TraceCommand::Send {
            key,
            to,
            waive,
            json,
        } => {
            let to = states("--to", to)?;
            let waivers = waive.iter().map(|w| waiver(w)).collect::<Result<_, _>>()?;
            let mut node = open(cli)?;
            let r = traces::send(&mut node, key, &to, waivers, &by, now()?).map_err(failure)?;
            report(&r, true, *json)
        }
        TraceCommand::Chain {
            key,
            to,
            id,
            waive,
            json,
        } => {
            let to = states("--to", to)?;
            let id = id
                .as_deref()
                .map(|i| TraceId::parse(i).map_err(|e| Failure::Usage(format!("--id: {e}"))))
                .transpose()?;
            let waivers = if waive.is_empty() {
                None
            } else {
                Some(waive.iter().map(|w| waiver(w)).collect::<Result<_, _>>()?)
            };
            let mut node = open(cli)?;
            let r =
                traces::chain(&mut node, key, id, &to, waivers, &by, now()?).map_err(failure)?;
            report(&r, true, *json)
        }
        TraceCommand::Acknowledge {
            key,
            by: who,
            note: n,
            json,
        } => {
            let actor = actor(who)?;
            let n = note(n)?;
            let mut node = open(cli)?;
            let this_node = matches!(actor, Actor::ThisNode);
            let r = traces::acknowledge(&mut node, key, actor, n, &by, now()?)
                .map_err(side_failure(this_node))?;
            report(&r, false, *json)
        }
        TraceCommand::Answer {
            key,
            file,
            by: who,
            note: n,
            json,
        } => {
            let actor = actor(who)?;
            let n = note(n)?;
            let answer: Answer = read_json(file)?;
            let mut node = open(cli)?;
            let this_node = matches!(actor, Actor::ThisNode);
            let r = traces::answer(&mut node, key, actor, answer, n, &by, now()?)
                .map_err(side_failure(this_node))?;
            report(&r, false, *json)
        }
        TraceCommand::FollowUp {
            key,
            to,
            question,
            json,
        } => {
            let to = state("--to", to)?;
            let question = text("--question", question)?;
            let mut node = open(cli)?;
            let r =
                traces::follow_up(&mut node, key, to, question, &by, now()?).map_err(failure)?;
            report(&r, false, *json)
        }
        TraceCommand::Close {
            key,
            feedback: f,
            json,
        } => {
            let f = f.iter().map(|a| feedback(a)).collect::<Result<_, _>>()?;
            let mut node = open(cli)?;
            let r = traces::close(&mut node, key, f, &by, now()?).map_err(failure)?;
            report(&r, false, *json)
        }
        TraceCommand::List {
            status,
            role,
            case_reference,
            json,
        } => {
            let node = open(cli)?;
            list(
                &node,
                status.as_deref(),
                role.as_deref(),
                case_reference.as_deref(),
                *json,
            )
        }
        TraceCommand::Show { key, json, request } => {
            let node = open(cli)?;
            if *request {
                let t = load(&node, key)?;
                let v = serde_json::to_value(t.state.request()).context("encoding the request")?;
                let mut out = std::io::stdout().lock();
                serde_json::to_writer_pretty(&mut out, &v).context("writing to stdout")?;
                std::io::Write::write_all(&mut out, b"\n").context("writing to stdout")?;
                return Ok(ExitCode::SUCCESS);
            }
            show(&node, key, *json)
        }
        TraceCommand::Overdue { json } => {
            let node = open(cli)?;
            overdue(&node, *json)
        }
        TraceCommand::Figures { json } => {
            let node = open(cli)?;
            figures(&node, *json)
        }
        TraceCommand::Draft { .. }
        | TraceCommand::Check { .. }
        | TraceCommand::AnswerDraft { .. }
        | TraceCommand::Print { .. } => Err(Failure::Internal(anyhow::anyhow!(
            "a preparation command reached the life-cycle commands"
        ))),
    }
}

const STATUSES: &[&str] = &[
    "draft",
    "sent",
    "delivered",
    "acknowledged",
    "follow_up",
    "answered",
    "closed",
];

fn list(
    node: &Node,
    status: Option<&str>,
    role: Option<&str>,
    case: Option<&str>,
    json: bool,
) -> Result<ExitCode, Failure> {
    if let Some(s) = status {
        if !STATUSES.contains(&s) {
            return Err(Failure::Usage(format!(
                "--status '{s}': one of {}",
                STATUSES.join(", ")
            )));
        }
    }
    let rows: Vec<_> = node
        .store
        .traces()
        .context("listing the traces")?
        .into_iter()
        .filter(|r| status.is_none_or(|s| r.status == s))
        .filter(|r| role.is_none_or(|s| r.role == s))
        .filter(|r| case.is_none_or(|c| r.case_reference == c))
        .collect();
    if json {
        let list: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "key": r.key,
                    "role": r.role,
                    "requesting_state": r.requesting_state,
                    "case_reference": r.case_reference,
                    "parent": r.parent,
                    "status": r.status,
                    "priority": r.priority,
                    "requested_states": if r.requested_states.is_empty() {
                        Vec::new()
                    } else {
                        r.requested_states.split(',').collect::<Vec<_>>()
                    },
                    "opened_at": r.opened_at,
                    "updated_at": r.updated_at,
                    "records": r.records,
                })
            })
            .collect();
        return print_json(&Value::Array(list)).map(|()| ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no traces");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<28} {:<10} {:<12} {:<8} {:<12} {:<20} UPDATED",
        "KEY", "ROLE", "STATUS", "PRIORITY", "TO", "CASE"
    );
    for r in &rows {
        println!(
            "{:<28} {:<10} {:<12} {:<8} {:<12} {:<20} {}",
            r.key,
            r.role,
            r.status,
            r.priority.as_deref().unwrap_or("—"),
            if r.requested_states.is_empty() {
                "—"
            } else {
                &r.requested_states
            },
            r.case_reference,
            r.updated_at
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn load(node: &Node, key: &str) -> Result<StoredTrace, Failure> {
    traces::load(node, key)
        .map_err(failure)?
        .ok_or_else(|| failure(TraceError::NotFound(key.to_owned())))
}

/// What one step says, in a few words.
fn describe(event: &TraceEvent) -> String {
    match event {
        TraceEvent::Drafted { request, .. } | TraceEvent::Amended { request, .. } => {
            format!("case {}", request.case_reference)
        }
        TraceEvent::Sent { dispatch, .. } => {
            let to: Vec<&str> = dispatch
                .recipients()
                .states()
                .iter()
                .map(|c| c.as_str())
                .collect();
            let waived: Vec<&str> = dispatch.waivers().iter().map(|w| w.gap.as_str()).collect();
            format!(
                "to {} ({}){}",
                to.join(", "),
                if dispatch.priority().is_urgent() {
                    "urgent"
                } else {
                    "routine"
                },
                if waived.is_empty() {
                    String::new()
                } else {
                    format!("; gaps explained: {}", waived.join(", "))
                }
            )
        }
        TraceEvent::Delivered { to, .. } => format!("to {to}"),
        TraceEvent::Acknowledged { by, .. } => format!("by {by}"),
        TraceEvent::Answered { by, answer, .. } => {
            format!("by {by}: {}", answer.outcome.kind().as_str())
        }
        TraceEvent::FollowUp { to, question, .. } => {
            format!(
                "to {to}: {}",
                question.as_str().lines().next().unwrap_or_default()
            )
        }
        TraceEvent::Closed { feedback, .. } => {
            let f: Vec<String> = feedback
                .iter()
                .map(|f| format!("{} rated {}", f.state, f.rating.get()))
                .collect();
            if f.is_empty() {
                "no feedback".into()
            } else {
                f.join(", ")
            }
        }
    }
}

fn show(node: &Node, key: &str, json: bool) -> Result<ExitCode, Failure> {
    let t = load(node, key)?;
    let row = node.store.trace(key).context("reading the trace")?;
    let status = row
        .as_ref()
        .map(|r| r.status.clone())
        .unwrap_or_else(|| traces::status_name(t.state.name()).to_owned());
    let exchanges: Vec<Value> = t
        .state
        .sent()
        .map(|o| o.exchanges())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            json!({
                "state": e.state().as_str(),
                "status": traces::status_name(e.phase().name()),
                "delivered_at": e.delivered_at().map(rfc3339),
                "acknowledged_at": e.acknowledged_at().map(rfc3339),
                "answers": e.answers().len(),
                "outcome": e.latest_answer().map(|a| a.answer.outcome.kind().as_str()),
                "follow_ups": e.follow_ups().len(),
            })
        })
        .collect();
    if json {
        let steps: Vec<Value> = t
            .steps()
            .map(|(index, at, by, record)| {
                Ok(json!({
                    "index": index,
                    "recorded_at": at,
                    "recorded_by": by,
                    "record": serde_json::to_value(record).context("encoding a record")?,
                }))
            })
            .collect::<Result<_, anyhow::Error>>()?;
        print_json(&json!({
            "key": t.key,
            "role": t.role.as_str(),
            "status": status,
            "case_reference": t.state.request().case_reference.as_str(),
            "exchanges": exchanges,
            "steps": steps,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let request = t.state.request();
    println!(
        "{}  {}  {}  case {}",
        t.key,
        t.role.as_str(),
        status,
        request.case_reference
    );
    for e in &exchanges {
        println!(
            "  {}: {}{}",
            e["state"].as_str().unwrap_or_default(),
            e["status"].as_str().unwrap_or_default(),
            e["outcome"]
                .as_str()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default()
        );
    }
    println!("steps:");
    for (index, at, by, r) in t.steps() {
        let mut how = Vec::new();
        if let Some(c) = r.channel {
            how.push(format!(
                "received by {}",
                serde_json::to_value(c)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ));
        }
        if let Some(v) = &r.received {
            how.push(format!(
                "message {} from {} (sent {})",
                v.message, v.from, v.sent_at
            ));
        }
        for s in &r.sent {
            how.push(format!("message {} to {}", s.message, s.to));
        }
        if r.receipt.is_some() {
            how.push("signed receipt".into());
        }
        println!(
            "  #{index:<5} {at}  {:<16} {}  [{by}]{}",
            r.event.step().to_string(),
            describe(&r.event),
            if how.is_empty() {
                String::new()
            } else {
                format!("; {}", how.join("; "))
            }
        );
        if let Some(n) = &r.note {
            println!("         note: {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `3d 4h`, `5h 10m`, `12m`.
fn span(d: time::Duration) -> String {
    let m = d.whole_minutes().max(0);
    let (days, hours, minutes) = (m / 1440, (m / 60) % 24, m % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m"),
        (0, h) => format!("{h}h {minutes}m"),
        (d, h) => format!("{d}d {h}h"),
    }
}

fn overdue(node: &Node, json: bool) -> Result<ExitCode, Failure> {
    let now = now()?;
    let review = traces::review(node, now).map_err(failure)?;
    let me = CountryCode::parse(&node.info.state)
        .map_err(|e| Failure::Internal(anyhow::anyhow!("node state: {e}")))?;
    // The key of an overdue trace: this node's own request, or the request this node owes.
    let all = traces::all(node).map_err(failure)?;
    let key_of = |id: &TraceId, counterpart: CountryCode| -> String {
        if counterpart != me {
            return traces::key_of(me, id);
        }
        let keys: Vec<&str> = all
            .iter()
            .filter(|t| t.role == Role::Requested && t.state.id() == id)
            .map(|t| t.key.as_str())
            .collect();
        keys.join(" ")
    };
    let level = |l: ReminderLevel| match l {
        ReminderLevel::Percent(p) => format!("{p}%"),
        ReminderLevel::Overdue => "overdue".into(),
    };
    if json {
        let overdue: Vec<Value> = review
            .overdue
            .iter()
            .map(|o| {
                json!({
                    "key": key_of(&o.trace, o.counterpart),
                    "trace": o.trace.as_str(),
                    "state": o.counterpart.as_str(),
                    "owes": o.obligation.to_string(),
                    "due_at": rfc3339(o.due_at),
                    "overdue_seconds": o.by.whole_seconds(),
                })
            })
            .collect();
        let reminders: Vec<Value> = review
            .reminders
            .iter()
            .map(|r| {
                json!({
                    "key": key_of(&r.trace, r.counterpart),
                    "trace": r.trace.as_str(),
                    "state": r.counterpart.as_str(),
                    "owes": r.obligation.to_string(),
                    "level": level(r.level),
                    "at": rfc3339(r.at),
                })
            })
            .collect();
        print_json(&json!({
            "now": rfc3339(now),
            "overdue": overdue,
            "reminders": reminders,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if review.overdue.is_empty() {
        println!("nothing overdue");
    } else {
        println!("overdue:");
        for o in &review.overdue {
            println!(
                "  {:<28} {} owes its {}: due {}, {} late",
                key_of(&o.trace, o.counterpart),
                o.counterpart,
                o.obligation,
                rfc3339(o.due_at),
                span(o.by)
            );
        }
    }
    if !review.reminders.is_empty() {
        println!("reminders due:");
        for r in &review.reminders {
            println!(
                "  {:<28} {} {} ({} of the time, since {})",
                key_of(&r.trace, r.counterpart),
                r.counterpart,
                r.obligation,
                level(r.level),
                rfc3339(r.at)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn figures(node: &Node, json: bool) -> Result<ExitCode, Failure> {
    let f = traces::figures(node).map_err(failure)?;
    let doc = traces::figures_json(&f);
    if json {
        print_json(&doc)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "requests sent {}, received {}, drafts {}",
        f.sent, f.received, f.drafts
    );
    let line = |label: &str, c: &CountryCode, r: &Responsiveness| {
        let outcomes: Vec<String> = OutcomeKind::ALL
            .iter()
            .filter(|k| r.outcomes.get(**k) > 0)
            .map(|k| format!("{} {}", k.as_str(), r.outcomes.get(*k)))
            .collect();
        println!(
            "  {label} {c}: {} request(s), {} acknowledged (median {}), {} answered (median {}){}",
            r.requests,
            r.acknowledged,
            r.median_to_acknowledge.map_or("—".into(), span),
            r.answered,
            r.median_to_answer.map_or("—".into(), span),
            if outcomes.is_empty() {
                String::new()
            } else {
                format!("; {}", outcomes.join(", "))
            }
        );
    };
    for (c, r) in &f.by_requested_state {
        line("to", c, r);
    }
    for (c, r) in &f.by_requesting_state {
        line("from", c, r);
    }
    let s = &f.sdg_16_4_2;
    println!(
        "SDG 16.4.2: origin established for {} of {} seized, found or surrendered item(s){}",
        s.established,
        s.items,
        s.share()
            .map(|x| format!(" ({:.0}%)", x * 100.0))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
