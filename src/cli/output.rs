//! Terminal output: tables and one-line renderings. Text that may come from source data,
//! PTV or file names passes [`escape`]: a control character would otherwise reach the
//! terminal and could clear it, retitle it or hide a line.

use crate::model::ItemKind;
use crate::plan::{Action, Plan};
use crate::validate::{Finding, Severity};
use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};

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

const SHOWN: [Action; 8] = [
    Action::Create,
    Action::Update,
    Action::Restore,
    Action::Archive,
    Action::Unchanged,
    Action::Invalid,
    Action::Held,
    Action::Protected,
];

/// Summary table: one row per item kind, one column per action.
#[must_use]
pub fn plan_table(plan: &Plan) -> Table {
    let counts = plan.counts();
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY);
    let mut header = vec!["kind".to_owned()];
    header.extend(SHOWN.iter().map(|a| a.as_str().to_owned()));
    t.set_header(header);
    for kind in ItemKind::ALL {
        let mut row = vec![kind.as_str().to_owned()];
        row.extend(
            SHOWN
                .iter()
                .map(|a| counts.get(&(kind, *a)).copied().unwrap_or(0).to_string()),
        );
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
                Action::Invalid => "!",
                Action::Held => "=",
                Action::Protected => "#",
                Action::Unchanged => " ",
            };
            let mut line = format!("{sign} {:9} {} {}", s.action.as_str(), s.kind, s.id);
            if !s.changed.is_empty() {
                line.push_str(": ");
                line.push_str(&s.changed.join(", "));
            }
            if let Some(r) = &s.reason {
                line.push_str(" — ");
                line.push_str(r);
            }
            escape(&line).into_owned()
        })
        .collect()
}
