//! Progress of long imports on stderr: a bar with rate and time left on a terminal, a plain
//! line every ten seconds otherwise (logs, CI), nothing for imports that end within five
//! seconds, and nothing at all with `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracemark_registry::import::{Phase, Progress, ProgressFn};

/// Plain lines: the first after this long, then at this interval.
const QUIET_START: Duration = Duration::from_secs(5);
const LINE_EVERY: Duration = Duration::from_secs(10);

struct Plain {
    started: Instant,
    phase: Option<(Phase, Instant)>,
    last_line: Option<Instant>,
}

struct Bars {
    bar: Option<(Phase, ProgressBar)>,
}

fn unit(phase: Phase) -> &'static str {
    match phase {
        Phase::Writing => "records",
        Phase::Converting | Phase::Checking => "bytes",
    }
}

fn bar_for(p: &Progress) -> ProgressBar {
    let bar = match p.total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    let template = match (p.phase, p.total.is_some()) {
        (Phase::Writing, true) => {
            "{prefix:>9} [{bar:30}] {human_pos}/{human_len} records  {rate}  ETA {eta}"
        }
        (Phase::Writing, false) | (Phase::Converting, false) => {
            "{prefix:>9} {spinner} {human_pos} rows  {rate}"
        }
        _ => "{prefix:>9} [{bar:30}] {bytes}/{total_bytes}  {binary_bytes_per_sec}  ETA {eta}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        // A whole number of things per second reads better than indicatif's decimals.
        let style = style.with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", state.per_sec());
            },
        );
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(p.phase.as_str());
    bar
}

/// The observer to hand to the import engine, or `None` when progress is not wanted.
pub fn observer(quiet: bool) -> Option<ProgressFn> {
    if quiet {
        return None;
    }
    if std::io::stderr().is_terminal() {
        let state = Arc::new(Mutex::new(Bars { bar: None }));
        return Some(Arc::new(move |p: Progress| {
            let Ok(mut s) = state.lock() else { return };
            let fresh = match &s.bar {
                Some((phase, _)) => *phase != p.phase,
                None => true,
            };
            if fresh {
                if let Some((_, old)) = s.bar.take() {
                    old.finish();
                }
                s.bar = Some((p.phase, bar_for(&p)));
            }
            if let Some((_, bar)) = &s.bar {
                bar.set_position(p.done);
                if p.total.is_some_and(|t| p.done >= t) {
                    bar.finish();
                }
            }
        }));
    }
    let state = Arc::new(Mutex::new(Plain {
        started: Instant::now(),
        phase: None,
        last_line: None,
    }));
    Some(Arc::new(move |p: Progress| {
        let Ok(mut s) = state.lock() else { return };
        let now = Instant::now();
        let phase_start = match s.phase {
            Some((phase, at)) if phase == p.phase => at,
            _ => {
                s.phase = Some((p.phase, now));
                now
            }
        };
        if now.duration_since(s.started) < QUIET_START
            || s.last_line
                .is_some_and(|l| now.duration_since(l) < LINE_EVERY)
        {
            return;
        }
        s.last_line = Some(now);
        let secs = now.duration_since(phase_start).as_secs_f64().max(0.001);
        let rate = p.done as f64 / secs;
        let line = match p.total {
            Some(t) if t > 0 => {
                let left = (t.saturating_sub(p.done)) as f64 / rate.max(1e-9);
                format!(
                    "import: {} {:.0}% ({} of {} {}, {:.0} {}/s, about {:.0} s left)",
                    p.phase.as_str(),
                    100.0 * p.done as f64 / t as f64,
                    p.done,
                    t,
                    unit(p.phase),
                    rate,
                    unit(p.phase),
                    left
                )
            }
            _ => format!(
                "import: {} {} rows ({:.0}/s)",
                p.phase.as_str(),
                p.done,
                rate
            ),
        };
        eprintln!("{line}");
    }))
}
