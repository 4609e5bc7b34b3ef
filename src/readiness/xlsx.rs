//! `content.xlsx`: the test environment's data as DVV asks integration vendors for it
//! (reference §11.6), one sheet per kind (organisations, services, each channel type,
//! connections), one row per item, with its PTV id, our source id, names and texts per
//! language and the key fields.

use super::testset::{self, TestSet};
use crate::model::{ChannelType, ItemKind, PtvId};
use anyhow::Context as _;
use serde_json::Value;
use std::collections::BTreeSet;

/// One sheet: its name, header and rows of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The languages the test set's texts use, Finnish first.
fn languages(set: &TestSet) -> Vec<String> {
    let mut all: BTreeSet<String> = BTreeSet::new();
    for v in set
        .organizations
        .iter()
        .chain(&set.services)
        .chain(&set.channels)
    {
        if let Some(lv) = v["languageVersions"].as_object() {
            all.extend(lv.keys().cloned());
        }
    }
    let mut out: Vec<String> = all.iter().filter(|l| *l == "fi").cloned().collect();
    out.extend(all.into_iter().filter(|l| l != "fi"));
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn texts(v: &Value, field: &str, langs: &[String]) -> Vec<String> {
    langs
        .iter()
        .map(|l| text(&v["languageVersions"][l.as_str()][field]))
        .collect()
}

fn headers(field: &str, langs: &[String]) -> Vec<String> {
    langs.iter().map(|l| format!("{field} ({l})")).collect()
}

/// What identifies a channel of its type: addresses, numbers, links.
fn channel_details(v: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(lv) = v["languageVersions"].as_object() {
        for (l, x) in lv {
            if let Some(w) = x["webAddress"].as_str() {
                parts.push(format!("{l}: {w}"));
            }
        }
    }
    for p in v["phones"].as_array().into_iter().flatten() {
        parts.push(format!(
            "{} {}{}",
            text(&p["language"]),
            text(&p["prefix"]),
            text(&p["number"])
        ));
    }
    for f in v["formUrls"].as_array().into_iter().flatten() {
        parts.push(format!("{} {}", text(&f["language"]), text(&f["url"])));
    }
    for a in v["addresses"].as_array().into_iter().flatten() {
        let street = a["street"]["fi"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| a["street"].as_object()?.values().next().map(text))
            .unwrap_or_default();
        parts.push(format!(
            "{street} {}, {} ({})",
            text(&a["streetNumber"]),
            text(&a["postalCode"]),
            text(&a["municipality"])
        ));
    }
    parts.join("; ")
}

/// The sheets of the test set, each item with its PTV id (`ptv_id`) and UI link (`link`).
pub async fn sheets<F, Fut>(
    set: &TestSet,
    ptv_id: F,
    link: impl Fn(ItemKind, &PtvId) -> String,
) -> Vec<Sheet>
where
    F: Fn(ItemKind, &str) -> Fut,
    Fut: Future<Output = Option<PtvId>>,
{
    let langs = languages(set);
    // A cell: the PTV id's text, empty when none is recorded.
    let ptv_text = async |kind: ItemKind, sid: &str| {
        ptv_id(kind, sid)
            .await
            .map(|p| p.to_string())
            .unwrap_or_default()
    };
    let id_and_link = async |kind: ItemKind, v: &Value| {
        let sid = text(&v["id"]);
        let p = ptv_id(kind, &sid).await;
        let l = p.as_ref().map(|p| link(kind, p)).unwrap_or_default();
        (p.map(|p| p.to_string()).unwrap_or_default(), sid, l)
    };
    let mut out = Vec::new();

    let mut columns = vec![
        "PTV id".into(),
        "Source id".into(),
        "Parent (source id)".into(),
        "Organisation type".into(),
    ];
    columns.extend(headers("Name", &langs));
    columns.extend(headers("Summary", &langs));
    columns.push("Link".into());
    let mut rows = Vec::new();
    for v in &set.organizations {
        let (p, sid, l) = id_and_link(ItemKind::Organization, v).await;
        let mut row = vec![p, sid, text(&v["parent"]), text(&v["organizationType"])];
        row.extend(texts(v, "name", &langs));
        row.extend(texts(v, "summary", &langs));
        row.push(l);
        rows.push(row);
    }
    out.push(Sheet {
        name: "Organisations".into(),
        columns,
        rows,
    });

    let mut columns: Vec<String> = [
        "PTV id",
        "Source id",
        "Organisation (source id)",
        "Service type",
        "Funding type",
        "Charge type",
        "Area",
        "Service languages",
    ]
    .map(String::from)
    .to_vec();
    columns.extend(headers("Name", &langs));
    columns.extend(headers("Summary", &langs));
    columns.extend(headers("Description", &langs));
    columns.push("Link".into());
    let mut rows = Vec::new();
    for v in &set.services {
        let (p, sid, l) = id_and_link(ItemKind::Service, v).await;
        let mut row = vec![
            p,
            sid,
            text(&v["organization"]),
            text(&v["serviceType"]),
            text(&v["fundingType"]),
            text(&v["chargeType"]),
            text(&v["area"]),
            text(&v["serviceLanguages"]),
        ];
        row.extend(texts(v, "name", &langs));
        row.extend(texts(v, "summary", &langs));
        row.extend(texts(v, "description", &langs));
        row.push(l);
        rows.push(row);
    }
    out.push(Sheet {
        name: "Services".into(),
        columns,
        rows,
    });

    for t in ChannelType::ALL {
        let mut columns: Vec<String> = ["PTV id", "Source id", "Organisation (source id)"]
            .map(String::from)
            .to_vec();
        columns.extend(headers("Name", &langs));
        columns.extend(headers("Summary", &langs));
        columns.extend(headers("Description", &langs));
        columns.push("Details".into());
        columns.push("Link".into());
        let mut rows = Vec::new();
        for v in set
            .channels
            .iter()
            .filter(|v| testset::channel_type(v) == Some(t))
        {
            let (p, sid, l) = id_and_link(ItemKind::Channel, v).await;
            let mut row = vec![p, sid, text(&v["organization"])];
            row.extend(texts(v, "name", &langs));
            row.extend(texts(v, "summary", &langs));
            row.extend(texts(v, "description", &langs));
            row.push(channel_details(v));
            row.push(l);
            rows.push(row);
        }
        out.push(Sheet {
            name: format!("{t} channels"),
            columns,
            rows,
        });
    }

    let mut columns: Vec<String> = [
        "Service PTV id",
        "Service source id",
        "Channel PTV id",
        "Channel source id",
        "Charge type",
    ]
    .map(String::from)
    .to_vec();
    columns.extend(headers("Description", &langs));
    columns.push("Service hours".into());
    let mut rows = Vec::new();
    for s in &set.services {
        let sid = text(&s["id"]);
        let sp = ptv_text(ItemKind::Service, &sid).await;
        for c in testset::connections(s) {
            let cid = text(&c["channel"]);
            let cp = ptv_text(ItemKind::Channel, &cid).await;
            let mut row = vec![sp.clone(), sid.clone(), cp, cid, text(&c["chargeType"])];
            row.extend(langs.iter().map(|l| text(&c["description"][l.as_str()])));
            row.push(text(&c["serviceHours"]));
            rows.push(row);
        }
    }
    out.push(Sheet {
        name: "Connections".into(),
        columns,
        rows,
    });
    out
}

/// Writes the sheets as an Excel workbook.
pub fn write(sheets: &[Sheet], path: &std::path::Path) -> anyhow::Result<()> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for s in sheets {
        let ws = book.add_worksheet();
        ws.set_name(&s.name)?;
        for (c, h) in s.columns.iter().enumerate() {
            ws.write_string_with_format(0, u16::try_from(c)?, h, &bold)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                ws.write_string(u32::try_from(r + 1)?, u16::try_from(c)?, cell)?;
            }
        }
        ws.autofit();
    }
    book.save(path)
        .with_context(|| format!("cannot write {}", path.display()))
}
