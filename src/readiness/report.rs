//! The readiness report as DVV reads it: `report.md` and a self-contained `report.html`
//! (inline CSS, no external asset, every text escaped) from one [`Readiness`].

use super::{CheckItem, Readiness};
use anyhow::Context as _;
use std::fmt::Write as _;

/// A table cell of Markdown: no line breaks, pipes escaped, no raw HTML.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

/// Text escaped for HTML content and attribute values.
#[must_use]
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn verdict(passed: bool) -> &'static str {
    if passed { "passed" } else { "FAILED" }
}

fn summary_line(r: &Readiness) -> String {
    let total = r.checklist.len();
    let ok = r.checklist.iter().filter(|c| c.passed).count();
    let failed: Vec<String> = r
        .checklist
        .iter()
        .chain(&r.cleanup)
        .filter(|c| !c.passed)
        .map(|c| c.number.to_string())
        .collect();
    if r.passed {
        format!("PASSED: {ok} of {total} checklist items passed and were read back")
    } else {
        format!(
            "FAILED: {ok} of {total} checklist items passed; failed: {}",
            failed.join(", ")
        )
    }
}

fn cleanup_line(r: &Readiness) -> String {
    match &r.cleanup {
        None => "kept (--keep): the test set stays in the test environment".into(),
        Some(c) if c.passed => "every item of the test set was archived at the end".into(),
        Some(_) => "archiving the test set at the end FAILED (see Clean-up)".into(),
    }
}

fn facts(r: &Readiness) -> Vec<(&'static str, String)> {
    let c = &r.connection;
    vec![
        ("Organisation", r.organization.to_string()),
        ("Result", summary_line(r)),
        ("Run id", r.run_id.clone()),
        ("PTV API version", r.api_version.clone()),
        ("Started", r.started.to_rfc3339()),
        ("Finished", r.finished.to_rfc3339()),
        ("Software", r.software.clone()),
        ("API endpoint", c.api_base.clone()),
        ("Token endpoint", c.token_url.clone()),
        ("TLS", c.tls.clone()),
        ("Logins", c.logins.to_string()),
        ("Token refreshes", c.token_refreshes.to_string()),
        ("Token lifetime", c.token_lifetime.clone()),
        (
            "HTTP requests",
            format!(
                "{} ({} answered 429 or 5xx, or not answered)",
                c.requests, c.failed_requests
            ),
        ),
        (
            "Firewall",
            "outbound HTTPS to the API and token endpoints above only; nothing listens for PTV".into(),
        ),
        (
            "Token handling",
            "the password is read from its secret source at each login and never stored; the token is kept in memory only, renewed before its exp, and a 401 forces one fresh login; no token, password or key appears in logs, the state store or this report".into(),
        ),
        ("Test set at the end", cleanup_line(r)),
    ]
}

fn md_item(out: &mut String, c: &CheckItem) {
    let _ = writeln!(
        out,
        "\n### {}. {}: {}\n\n{}\n",
        c.number,
        c.title,
        verdict(c.passed),
        c.note.trim()
    );
    if !c.items.is_empty() {
        out.push_str("| Kind | Source id | PTV id | Write | Read-back | Verdict |\n|---|---|---|---|---|---|\n");
        for i in &c.items {
            let ptv = match (&i.ptv_id, &i.link) {
                (Some(id), Some(link)) => format!("[{}]({})", cell(&id.to_string()), cell(link)),
                (Some(id), None) => cell(&id.to_string()),
                _ => "-".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {ptv} | {} | {} | {} |",
                cell(&i.kind),
                cell(&i.source_id),
                cell(&i.outcome),
                cell(&i.readback),
                if i.ok { "ok" } else { "FAILED" }
            );
        }
    }
    let _ = writeln!(out, "\nRequests ({}):\n", c.requests.len());
    if !c.requests.is_empty() {
        out.push_str("| Method | Path | Status | ms |\n|---|---|---|---|\n");
        for q in &c.requests {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&q.method),
                cell(&q.path),
                q.status
                    .map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
                q.duration_ms
            );
        }
    }
}

/// `report.md`.
#[must_use]
pub fn markdown(r: &Readiness) -> String {
    let mut out = format!(
        "# Technical readiness test report: {}\n\nDVV's technical readiness test of an IN integration (ptv-tuki@dvv.fi), run by `ptv-sync readiness` against PTV's customer test environment with data not previously entered there.\n\n| | |\n|---|---|\n",
        cell(r.organization.as_str())
    );
    for (k, v) in facts(r) {
        let _ = writeln!(out, "| {k} | {} |", cell(&v));
    }
    out.push_str("\n## Test set\n\n");
    for t in &r.test_set {
        let _ = writeln!(out, "- {}", cell(t));
    }
    out.push_str("\n## Checklist\n\n| # | Item | Result |\n|---|---|---|\n");
    for c in r.checklist.iter().chain(&r.cleanup) {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            c.number,
            cell(&c.title),
            verdict(c.passed)
        );
    }
    for c in &r.checklist {
        md_item(&mut out, c);
    }
    out.push_str("\n## Clean-up\n");
    match &r.cleanup {
        Some(c) => md_item(&mut out, c),
        None => out.push_str(
            "\nThe test set was kept (`--keep`): it stays published in the test environment for the content test.\n",
        ),
    }
    out.push_str(
        "\n## content.xlsx\n\nThe test set's data as it stood after item 17 (before item 18 removed some of it), one sheet per kind, one row per item:\n\n",
    );
    for s in &r.sheets {
        let _ = writeln!(
            out,
            "- **{}** ({} rows): {}",
            cell(&s.name),
            s.rows,
            cell(&s.columns.join(", "))
        );
    }
    out
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:75em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}\
th{background:#eee}.passed{color:#116611;font-weight:bold}.FAILED{color:#b00000;font-weight:bold}\
details{margin-bottom:1em}code{font-size:90%}";

fn html_item(out: &mut String, c: &CheckItem) {
    let v = verdict(c.passed);
    let _ = write!(
        out,
        "<h3 id=\"item-{n}\">{n}. {} <span class=\"{v}\">{v}</span></h3><p>{}</p>",
        escape(&c.title),
        escape(c.note.trim()),
        n = c.number
    );
    if !c.items.is_empty() {
        out.push_str("<table><tr><th>Kind</th><th>Source id</th><th>PTV id</th><th>Write</th><th>Read-back</th><th>Verdict</th></tr>");
        for i in &c.items {
            let ptv = match (&i.ptv_id, &i.link) {
                (Some(id), Some(link)) => {
                    format!(
                        "<a href=\"{}\">{}</a>",
                        escape(link),
                        escape(&id.to_string())
                    )
                }
                (Some(id), None) => escape(&id.to_string()),
                _ => "-".into(),
            };
            let iv = verdict(i.ok);
            let _ = write!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td>{ptv}</td><td>{}</td><td>{}</td><td class=\"{iv}\">{}</td></tr>",
                escape(&i.kind),
                escape(&i.source_id),
                escape(&i.outcome),
                escape(&i.readback),
                if i.ok { "ok" } else { "FAILED" }
            );
        }
        out.push_str("</table>");
    }
    let _ = write!(
        out,
        "<details><summary>Requests ({})</summary><table><tr><th>Method</th><th>Path</th><th>Status</th><th>ms</th></tr>",
        c.requests.len()
    );
    for q in &c.requests {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&q.method),
            escape(&q.path),
            q.status
                .map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
            q.duration_ms
        );
    }
    out.push_str("</table></details>");
}

/// `report.html`: the same content, self-contained.
#[must_use]
pub fn html(r: &Readiness) -> String {
    let title = format!("Technical readiness test report: {}", r.organization);
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{CSS}</style></head><body><h1>{t}</h1><p>DVV's technical readiness test of an IN integration, run by <code>ptv-sync readiness</code> against PTV's customer test environment with data not previously entered there.</p><table>",
        t = escape(&title)
    );
    for (k, v) in facts(r) {
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(k),
            escape(&v)
        );
    }
    out.push_str("</table><h2>Test set</h2><ul>");
    for t in &r.test_set {
        let _ = write!(out, "<li>{}</li>", escape(t));
    }
    out.push_str("</ul><h2>Checklist</h2><table><tr><th>#</th><th>Item</th><th>Result</th></tr>");
    for c in r.checklist.iter().chain(&r.cleanup) {
        let v = verdict(c.passed);
        let _ = write!(
            out,
            "<tr><td>{n}</td><td><a href=\"#item-{n}\">{}</a></td><td class=\"{v}\">{v}</td></tr>",
            escape(&c.title),
            n = c.number
        );
    }
    out.push_str("</table>");
    for c in &r.checklist {
        html_item(&mut out, c);
    }
    out.push_str("<h2>Clean-up</h2>");
    match &r.cleanup {
        Some(c) => html_item(&mut out, c),
        None => out.push_str(
            "<p>The test set was kept (<code>--keep</code>): it stays published in the test environment for the content test.</p>",
        ),
    }
    out.push_str("<h2>content.xlsx</h2><ul>");
    for s in &r.sheets {
        let _ = write!(
            out,
            "<li><b>{}</b> ({} rows): {}</li>",
            escape(&s.name),
            s.rows,
            escape(&s.columns.join(", "))
        );
    }
    out.push_str("</ul></body></html>\n");
    out
}

/// Writes `report.md` and `report.html` into `dir`.
pub fn write(r: &Readiness, dir: &std::path::Path) -> anyhow::Result<()> {
    for (name, text) in [("report.md", markdown(r)), ("report.html", html(r))] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_markdown_cells_stay_in_their_cell() {
        assert_eq!(
            escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(cell("a|b\nc<d"), "a\\|b c&lt;d");
    }
}
