//! Terminal output: tables and one-line renderings, each made to fit an 80-column
//! terminal (longer values are cut with `…`), with no colour codes. Text that may come
//! from source data, PTV or file names passes [`escape`]: a control character would
//! otherwise reach the terminal and could clear it, retitle it or hide a line.

use crate::model::{Action, ItemKind, Outcome};

use crate::apply::RunReport;
use crate::plan::Plan;
use crate::validate::{Finding, Severity};
use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};

/// The width tables and lines are made to fit.
pub const WIDTH: u16 = 80;

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH);
    t
}

/// `text` cut to `max` characters, the cut marked with `…`.
#[must_use]
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` with every control character but the newline shown as `\u{..}`.
#[must_use]
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[must_use]
pub fn finding_line(f: &Finding) -> String {
    let sev = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let at = if f.path.is_empty() {
        String::new()
    } else {
        format!(" {}", f.path)
    };
    let line = format!(
        "{sev:7} {:<12} {} {}{at} ({}): {}",
        f.kind.as_str(),
        f.item_kind,
        f.id,
        f.file,
        f.message
    );
    escape(&line).into_owned()
}

const SHOWN: [Action; 9] = [
    Action::Create,
    Action::Update,
    Action::Restore,
    Action::Archive,
    Action::Touch,
    Action::Unchanged,
    Action::Invalid,
    Action::Held,
    Action::Protected,
];

/// Summary table: one row per action, one column per item kind.
#[must_use]
pub fn plan_table(plan: &Plan) -> Table {
    let counts = plan.counts();
    let mut t = table();
    let mut header = vec!["action".to_owned()];
    header.extend(ItemKind::ALL.iter().map(|k| k.as_str().to_owned()));
    t.set_header(header);
    for action in SHOWN {
        let mut row = vec![action.as_str().to_owned()];
        row.extend(
            ItemKind::ALL
                .iter()
                .map(|k| counts.get(&(*k, action)).copied().unwrap_or(0).to_string()),
        );
        t.add_row(row);
    }
    t
}

/// A run's results: one row per write action, one column per outcome.
#[must_use]
pub fn summary_table(r: &RunReport) -> Table {
    const OUTCOMES: [Outcome; 5] = [
        Outcome::Ok,
        Outcome::Failed,
        Outcome::NeedsPerson,
        Outcome::Blocked,
        Outcome::Skipped,
    ];
    let mut t = table();
    t.set_header([
        "action",
        "ok",
        "failed",
        "needs a person",
        "blocked",
        "skipped",
    ]);
    for action in [
        Action::Create,
        Action::Update,
        Action::Restore,
        Action::Archive,
        Action::Touch,
    ] {
        let row: Vec<String> = std::iter::once(action.as_str().to_owned())
            .chain(OUTCOMES.iter().map(|o| r.count(action, *o).to_string()))
            .collect();
        t.add_row(row);
    }
    t
}

/// One line per step that is not "unchanged".
#[must_use]
pub fn step_lines(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter(|s| s.action != Action::Unchanged)
        .map(|s| {
            let sign = match s.action {
                Action::Create => "+",
                Action::Update => "~",
                Action::Restore => "^",
                Action::Archive => "-",
                Action::Touch => "*",
                Action::Invalid => "!",
                Action::Held => "=",
                Action::Protected => "#",
                // Recorded in the audit log and run items, never planned.
                Action::Unchanged
                | Action::Connections
                | Action::Adopt
                | Action::Protect
                | Action::Unprotect => " ",
            };
            let mut line = format!("{sign} {:9} {} {}", s.action.as_str(), s.kind, s.id);
            if let Some(r) = &s.reason {
                line.push_str(" — ");
                line.push_str(r);
            }
            let mut line = truncate(&escape(&line), usize::from(WIDTH));
            if s.values.is_empty() && !s.changed.is_empty() {
                line = truncate(
                    &format!("{line}: {}", s.changed.join(", ")),
                    usize::from(WIDTH),
                );
            }
            for v in &s.values {
                line.push('\n');
                line.push_str(&escape(&change_line(v)));
            }
            line
        })
        .collect()
}

/// `    path: old → new` as `terraform plan` shows a changed attribute; when that does not
/// fit, the old and the new value on lines of their own, each cut to fit.
fn change_line(v: &crate::plan::FieldChange) -> String {
    let width = usize::from(WIDTH);
    let one = format!("    {}: {} → {}", v.path, v.old, v.new);
    if one.chars().count() <= width {
        return one;
    }
    format!(
        "    {}:\n      - {}\n      + {}",
        truncate(&v.path, width - 5),
        truncate(&v.old, width - 8),
        truncate(&v.new, width - 8)
    )
}

/// The drift table: one row per item not in step (kind, source id, verdict, detail).
#[must_use]
pub fn drift_table(r: &crate::drift::DriftReport) -> String {
    let mut t = table();
    t.set_header(vec!["Kind", "Item", "PTV holds", "What"]);
    for d in &r.drifted {
        let detail = match &d.verdict {
            crate::drift::Verdict::Edited { paths, .. } => paths.join(", "),
            other => other.detail(),
        };
        let who = match &d.verdict {
            crate::drift::Verdict::Edited {
                modified,
                modified_by,
                ..
            } => crate::drift::by_at(modified_by.as_deref(), modified.as_deref()),
            _ => String::new(),
        };
        t.add_row(vec![
            d.kind.as_str().to_owned(),
            escape(&truncate(d.id.as_str(), 28)).into_owned(),
            format!("{}{who}", d.verdict.as_str()),
            escape(&truncate(&detail, 200)).into_owned(),
        ]);
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::ItemResult;
    use crate::model::SourceId;
    use crate::plan::{FieldChange, Step};

    fn widest(text: &str) -> usize {
        text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    fn plan() -> Plan {
        let step = |action, kind, id: &str| Step {
            action,
            kind,
            id: SourceId::parse(id).unwrap(),
            changed: Vec::new(),
            values: Vec::new(),
            reason: None,
            fingerprint: None,
            desired: None,
            depth: 0,
        };
        let mut update = step(Action::Update, ItemKind::Service, "library-events");
        update.values = vec![
            FieldChange {
                path: "languageVersions.fi.name".into(),
                old: "\"Kirjaston tapahtumat\"".into(),
                new: "\"Tapahtumat kirjastossa\"".into(),
            },
            FieldChange {
            path: "languageVersions.fi.summary".into(),
            old: "\"Kirjaston tapahtumat: lukupiirit, satutunnit ja kirjailijavierailut joka viikko\"".into(),
            new: "\"Kirjaston tapahtumat: lukupiirit, satutunnit, kirjailijavierailut ja työpajat joka viikko\"".into(),
            },
        ];
        update.changed = vec!["languageVersions.fi.summary".into()];
        let mut held = step(
            Action::Held,
            ItemKind::Channel,
            "a-very-long-channel-identifier-from-the-source-system-0001",
        );
        held.reason = Some("PTV refused it: the name is already used by another channel of this organisation; rename one".into());
        Plan {
            steps: vec![
                step(Action::Create, ItemKind::Service, "sauna-evenings"),
                update,
                step(Action::Archive, ItemKind::Channel, "old-web-page"),
                held,
                step(Action::Protected, ItemKind::Organization, "youth-services"),
            ],
            unchanged: [(ItemKind::Service, 1234), (ItemKind::Channel, 56_789)].into(),
        }
    }

    #[test]
    fn the_plan_table_and_its_steps_fit_80_columns() {
        let p = plan();
        let text = format!("{}\n{}", plan_table(&p), step_lines(&p).join("\n"));
        assert!(widest(&text) <= 80, "{} columns:\n{text}", widest(&text));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn the_run_summary_table_fits_80_columns() {
        let mut r = RunReport {
            organization: crate::model::OrgName::parse("esimerkkila").unwrap(),
            run_id: Some(7),
            dry_run: false,
            outcome: crate::store::RunOutcome::Partial,
            guard: None,
            results: Vec::new(),
            unchanged: 0,
            invalid: 0,
            duration_ms: 0,
            plan: Plan::default(),
        };
        for (action, outcome, n) in [
            (Action::Create, Outcome::Ok, 1234),
            (Action::Update, Outcome::NeedsPerson, 2),
            (Action::Archive, Outcome::Skipped, 99_999),
        ] {
            for i in 0..n {
                r.results.push(ItemResult {
                    kind: ItemKind::Service,
                    id: SourceId::parse(&format!("s{i}")).unwrap(),
                    action,
                    outcome,
                    error: None,
                });
            }
        }
        let text = summary_table(&r).to_string();
        assert!(widest(&text) <= 80, "{} columns:\n{text}", widest(&text));
        insta::assert_snapshot!(text);
    }
}
