//! Bad input, case by case: each asserts the finding's kind, item id and field path.

use ptv_sync::model::{ApiVersion, ItemKind, SourceId};
use ptv_sync::source::{Origin, Snapshot, parse_document};
use ptv_sync::validate::{FindingKind as K, ValidateOptions, Validated, validate};
use serde_json::{Value, json};

fn base() -> Vec<Value> {
    vec![
        json!({"kind": "organization", "id": "dept", "organizationType": "Municipality", "municipality": "049", "businessCode": "0101263-6",
               "languageVersions": {"fi": {"name": "Osasto", "summary": "Osaston tiivistelmä."}, "sv": {"name": "Avdelning", "summary": "Avdelningens sammanfattning."}}}),
        json!({"kind": "channel", "id": "web", "channelType": "EService", "organization": "dept", "serviceLanguages": ["fi"], "requiresAuthentication": true,
               "languageVersions": {"fi": {"name": "Verkkoasiointi", "summary": "Asioi verkossa.", "description": "Kuvaus.", "webAddress": "https://example.fi"}}}),
        json!({"kind": "channel", "id": "tel", "channelType": "Phone", "organization": "dept", "serviceLanguages": ["fi"],
               "languageVersions": {"fi": {"name": "Neuvonta", "summary": "Soita meille.", "description": "Kuvaus."}},
               "phones": [{"language": "fi", "type": "Phone", "prefix": "+358", "number": "912345678", "chargeType": "FreeOfCharge"}]}),
        json!({"kind": "channel", "id": "office", "channelType": "ServiceLocation", "organization": "dept", "serviceLanguages": ["fi"],
               "languageVersions": {"fi": {"name": "Toimisto", "summary": "Käyntiosoite.", "description": "Kuvaus."}},
               "addresses": [{"type": "Location", "street": {"fi": "Katu"}, "streetNumber": "1", "postalCode": "02100", "municipality": "049"}],
               "serviceHours": [{"type": "Standard", "openingHours": [{"dayFrom": "Monday", "dayTo": "Friday", "from": "08:00", "to": "16:00"}]}]}),
        json!({"kind": "service", "id": "permit", "organization": "dept", "serviceType": "PermitOrObligation", "fundingType": "PubliclyFunded",
               "serviceLanguages": ["fi"], "area": {"type": "LimitedArea", "municipalities": ["049"]}, "targetGroups": ["KR1"], "serviceClasses": ["P3.1"],
               "ontologyTerms": ["http://www.yso.fi/onto/koko/p37924"],
               "languageVersions": {"fi": {"name": "Lupa", "summary": "Lupa tarvitaan.", "description": "Lupaa haetaan."}},
               "connections": [{"channel": "web"}, {"channel": "tel"}]}),
    ]
}

fn run(docs: Vec<Value>, api: ApiVersion) -> Validated {
    let file: std::sync::Arc<str> = std::sync::Arc::from("test.yaml");
    let documents = docs
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            parse_document(
                v,
                None,
                Origin {
                    file: file.clone(),
                    index: Some(i),
                },
            )
            .expect("kind and id readable")
        })
        .collect();
    validate(
        &Snapshot {
            documents,
            unreadable: Vec::new(),
        },
        &ValidateOptions {
            api,
            main_area: Some(
                serde_json::from_value(json!({"type": "LimitedArea", "municipalities": ["049"]}))
                    .unwrap(),
            ),
            ..ValidateOptions::default()
        },
    )
}

fn find(docs: &[Value], kind: &str, id: &str) -> usize {
    docs.iter()
        .position(|d| d["kind"] == kind && d["id"] == id)
        .expect("base has it")
}

/// Applies `edit` to the base and expects an error finding with this kind, item and path.
fn case(
    name: &str,
    api: ApiVersion,
    edit: impl FnOnce(&mut Vec<Value>),
    kind: K,
    item: (ItemKind, &str),
    path: &str,
) {
    let mut docs = base();
    edit(&mut docs);
    let v = run(docs, api);
    let hit = v
        .findings
        .iter()
        .any(|f| f.kind == kind && f.item_kind == item.0 && f.id == item.1 && f.path == path);
    assert!(
        hit,
        "case {name}: expected {kind} on {} {} at '{path}', got:\n{}",
        item.0,
        item.1,
        v.findings
            .iter()
            .map(|f| format!("  {f}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        v.invalid
            .contains_key(&(item.0, SourceId::parse(item.1).unwrap())),
        "case {name}: item not marked invalid"
    );
    if item.0 != ItemKind::Connections {
        assert!(
            v.present
                .contains_key(&(item.0, SourceId::parse(item.1).unwrap())),
            "case {name}: an invalid item must still count as present (never archived)"
        );
    }
}

macro_rules! cases {
    ($($name:ident: $api:expr, |$d:ident| $edit:block => $kind:expr, ($ik:expr, $id:literal), $path:literal;)+) => {
        $(#[test] fn $name() { case(stringify!($name), $api, |$d: &mut Vec<Value>| $edit, $kind, ($ik, $id), $path); })+
    };
}

use ApiVersion::{V11, V12};
use ItemKind::{Channel as C, Connections as X, Organization as O, Service as S};

cases! {
    bad_ptv_id_on_a_service: V11, |d| { let i = find(d, "service", "permit"); d[i]["ptvId"] = json!("not-a-guid"); } => K::Parse, (S, "permit"), "ptvId";
    bad_ptv_id_on_a_channel: V12, |d| { let i = find(d, "channel", "web"); d[i]["ptvId"] = json!("{0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10}"); } => K::Parse, (C, "web"), "ptvId";
    unknown_key: V11, |d| { let i = find(d, "service", "permit"); d[i]["colour"] = json!("red"); } => K::Parse, (S, "permit"), "colour";
    wrong_type: V11, |d| { let i = find(d, "service", "permit"); d[i]["targetGroups"] = json!("KR1"); } => K::Parse, (S, "permit"), "targetGroups";
    bad_enum: V11, |d| { let i = find(d, "service", "permit"); d[i]["fundingType"] = json!("Free"); } => K::Parse, (S, "permit"), "fundingType";
    unknown_language_key: V11, |d| { let i = find(d, "service", "permit"); d[i]["languageVersions"]["de"] = d[i]["languageVersions"]["fi"].clone(); } => K::Parse, (S, "permit"), "languageVersions.de";
    missing_required_field: V11, |d| { let i = find(d, "service", "permit"); d[i]["languageVersions"]["fi"].as_object_mut().unwrap().remove("description"); } => K::Parse, (S, "permit"), "languageVersions.fi";
    duplicate_id: V11, |d| { let c = d[find(d, "channel", "web")].clone(); d.push(c); } => K::DuplicateId, (C, "web"), "id";
    name_too_long: V11, |d| { let i = find(d, "service", "permit"); d[i]["languageVersions"]["fi"]["name"] = json!("x".repeat(101)); } => K::TooLong, (S, "permit"), "languageVersions.fi.name";
    summary_too_long: V11, |d| { let i = find(d, "service", "permit"); d[i]["languageVersions"]["fi"]["summary"] = json!("y".repeat(151)); } => K::TooLong, (S, "permit"), "languageVersions.fi.summary";
    description_too_long: V11, |d| { let i = find(d, "channel", "web"); d[i]["languageVersions"]["fi"]["description"] = json!("z".repeat(2501)); } => K::TooLong, (C, "web"), "languageVersions.fi.description";
    empty_name: V11, |d| { let i = find(d, "organization", "dept"); d[i]["languageVersions"]["fi"]["name"] = json!("   "); } => K::Required, (O, "dept"), "languageVersions.fi.name";
    summary_equals_name: V11, |d| { let i = find(d, "service", "permit"); d[i]["languageVersions"]["fi"]["summary"] = json!("Lupa"); } => K::SummaryEqualsName, (S, "permit"), "languageVersions.fi.summary";
    no_language_versions: V11, |d| { let i = find(d, "channel", "tel"); d[i]["languageVersions"] = json!({}); } => K::Required, (C, "tel"), "languageVersions";
    municipality_missing: V11, |d| { let i = find(d, "organization", "dept"); d[i].as_object_mut().unwrap().remove("municipality"); } => K::Required, (O, "dept"), "municipality";
    municipality_on_non_municipality: V11, |d| { let i = find(d, "organization", "dept"); d[i]["organizationType"] = json!("Company"); d[i]["area"] = json!({"type": "LimitedArea", "municipalities": ["049"]}); } => K::NotAllowed, (O, "dept"), "municipality";
    business_code_format: V11, |d| { let i = find(d, "organization", "dept"); d[i]["businessCode"] = json!("1234567"); } => K::Format, (O, "dept"), "businessCode";
    business_code_required_on_v12: V12, |d| { let i = find(d, "organization", "dept"); d[i].as_object_mut().unwrap().remove("businessCode"); } => K::Required, (O, "dept"), "businessCode";
    unknown_parent: V11, |d| { let i = find(d, "organization", "dept"); d[i]["parent"] = json!("nowhere"); } => K::UnknownReference, (O, "dept"), "parent";
    parent_cycle: V11, |d| {
        let i = find(d, "organization", "dept"); d[i]["parent"] = json!("dept2");
        let mut o2 = d[i].clone(); o2["id"] = json!("dept2"); o2["parent"] = json!("dept"); o2["languageVersions"]["fi"]["name"] = json!("Toinen"); d.push(o2);
    } => K::Cycle, (O, "dept"), "parent";
    service_unknown_organization: V11, |d| { let i = find(d, "service", "permit"); d[i]["organization"] = json!("ghost"); } => K::UnknownReference, (S, "permit"), "organization";
    limited_area_without_codes: V11, |d| { let i = find(d, "service", "permit"); d[i]["area"] = json!({"type": "LimitedArea"}); } => K::Required, (S, "permit"), "area";
    whole_country_with_codes: V11, |d| { let i = find(d, "service", "permit"); d[i]["area"] = json!({"type": "WholeCountry", "municipalities": ["049"]}); } => K::NotAllowed, (S, "permit"), "area";
    area_too_wide: V11, |d| { let i = find(d, "service", "permit"); d[i]["area"] = json!({"type": "WholeCountry"}); } => K::AreaTooWide, (S, "permit"), "area.type";
    bad_municipality_code: V11, |d| { let i = find(d, "service", "permit"); d[i]["area"]["municipalities"] = json!(["Espoo"]); } => K::Format, (S, "permit"), "area.municipalities[0]";
    no_target_groups: V11, |d| { let i = find(d, "service", "permit"); d[i]["targetGroups"] = json!([]); } => K::Required, (S, "permit"), "targetGroups";
    kr2_without_subgroup: V11, |d| { let i = find(d, "service", "permit"); d[i]["targetGroups"] = json!(["KR2"]); } => K::Required, (S, "permit"), "targetGroups";
    too_many_service_classes: V11, |d| { let i = find(d, "service", "permit"); d[i]["serviceClasses"] = json!(["P1.1", "P2.1", "P3.1", "P4.1", "P5.1"]); } => K::Count, (S, "permit"), "serviceClasses";
    only_main_service_classes: V11, |d| { let i = find(d, "service", "permit"); d[i]["serviceClasses"] = json!(["P3"]); } => K::NotAllowed, (S, "permit"), "serviceClasses";
    too_many_ontology_terms: V11, |d| { let i = find(d, "service", "permit"); d[i]["ontologyTerms"] = json!((1..=11).map(|n| format!("http://www.yso.fi/onto/koko/p{n}")).collect::<Vec<_>>()); } => K::Count, (S, "permit"), "ontologyTerms";
    bad_ontology_uri: V11, |d| { let i = find(d, "service", "permit"); d[i]["ontologyTerms"] = json!(["koko:p1"]); } => K::Format, (S, "permit"), "ontologyTerms[0]";
    life_events_without_kr1: V11, |d| { let i = find(d, "service", "permit"); d[i]["targetGroups"] = json!(["KR2", "KR2.1"]); d[i]["lifeEvents"] = json!(["KE1"]); } => K::NotAllowed, (S, "permit"), "lifeEvents";
    bare_industrial_class: V11, |d| { let i = find(d, "service", "permit"); d[i]["targetGroups"] = json!(["KR2", "KR2.1"]); d[i]["industrialClasses"] = json!(["01110"]); } => K::Format, (S, "permit"), "industrialClasses[0]";
    no_service_languages: V11, |d| { let i = find(d, "service", "permit"); d[i]["serviceLanguages"] = json!([]); } => K::Required, (S, "permit"), "serviceLanguages";
    keyword_too_long: V11, |d| { let i = find(d, "service", "permit"); d[i]["languageVersions"]["fi"]["keywords"] = json!(["k".repeat(101)]); } => K::TooLong, (S, "permit"), "languageVersions.fi.keywords[0]";
    duplicate_service_name: V11, |d| { let mut s = d[find(d, "service", "permit")].clone(); s["id"] = json!("permit2"); s["connections"] = json!([]); d.push(s); } => K::DuplicateName, (S, "permit2"), "languageVersions.fi.name";
    duplicate_service_name_in_other_case: V11, |d| { let mut s = d[find(d, "service", "permit")].clone(); s["id"] = json!("permit3"); s["connections"] = json!([]); let n = s["languageVersions"]["fi"]["name"].as_str().unwrap().to_uppercase(); s["languageVersions"]["fi"]["name"] = json!(n); d.push(s); } => K::DuplicateName, (S, "permit3"), "languageVersions.fi.name";
    duplicate_channel_name_same_type: V11, |d| { let mut c = d[find(d, "channel", "web")].clone(); c["id"] = json!("web2"); d.push(c); } => K::DuplicateName, (C, "web2"), "languageVersions.fi.name";
    eservice_without_web_address: V11, |d| { let i = find(d, "channel", "web"); d[i]["languageVersions"]["fi"].as_object_mut().unwrap().remove("webAddress"); } => K::Required, (C, "web"), "languageVersions.fi.webAddress";
    web_address_not_url: V11, |d| { let i = find(d, "channel", "web"); d[i]["languageVersions"]["fi"]["webAddress"] = json!("www.example.fi"); } => K::Format, (C, "web"), "languageVersions.fi.webAddress";
    accessibility_combination: V11, |d| { let i = find(d, "channel", "web"); d[i]["languageVersions"]["fi"]["accessibility"] = json!({"level": "FullyCompliant", "wcagLevel": "LevelA", "statementUrl": "https://example.fi/s", "statementName": "Seloste"}); } => K::NotAllowed, (C, "web"), "languageVersions.fi.accessibility.wcagLevel";
    signature_without_quantity: V11, |d| { let i = find(d, "channel", "web"); d[i]["requiresSignature"] = json!(true); } => K::Required, (C, "web"), "signatureQuantity";
    phone_missing_for_language: V11, |d| { let i = find(d, "channel", "tel"); d[i]["languageVersions"]["sv"] = json!({"name": "Rådgivning", "summary": "Ring oss.", "description": "Beskrivning."}); d[i]["serviceLanguages"] = json!(["fi", "sv"]); } => K::Required, (C, "tel"), "phones";
    phone_number_with_spaces: V11, |d| { let i = find(d, "channel", "tel"); d[i]["phones"][0]["number"] = json!("09 123 456"); } => K::Format, (C, "tel"), "phones[0].number";
    phone_prefix_with_leading_zero: V11, |d| { let i = find(d, "channel", "tel"); d[i]["phones"][0]["number"] = json!("0912345678"); } => K::Format, (C, "tel"), "phones[0].number";
    phone_other_charge_without_description: V11, |d| { let i = find(d, "channel", "tel"); d[i]["phones"][0]["chargeType"] = json!("Other"); } => K::Required, (C, "tel"), "phones[0].chargeDescription";
    phone_language_not_in_versions: V11, |d| { let i = find(d, "channel", "tel"); d[i]["phones"].as_array_mut().unwrap().push(json!({"language": "en", "type": "Phone", "prefix": "+358", "number": "91", "chargeType": "FreeOfCharge"})); } => K::LanguageMissing, (C, "tel"), "phones[1].language";
    form_fields_on_phone_channel: V11, |d| { let i = find(d, "channel", "tel"); d[i]["formUrls"] = json!([{"language": "fi", "url": "https://example.fi/f.pdf", "type": "PDF"}]); } => K::NotAllowed, (C, "tel"), "formUrls";
    location_without_location_address: V11, |d| { let i = find(d, "channel", "office"); d[i]["addresses"][0]["type"] = json!("Postal"); } => K::Required, (C, "office"), "addresses";
    bad_postal_code: V11, |d| { let i = find(d, "channel", "office"); d[i]["addresses"][0]["postalCode"] = json!("2100"); } => K::Format, (C, "office"), "addresses[0].postalCode";
    opening_hours_off_quarter: V11, |d| { let i = find(d, "channel", "office"); d[i]["serviceHours"][0]["openingHours"][0]["from"] = json!("08:10"); } => K::Format, (C, "office"), "serviceHours[0].openingHours[0].from";
    valid_to_before_from: V11, |d| { let i = find(d, "channel", "office"); d[i]["serviceHours"][0]["validFrom"] = json!("2026-05-01"); d[i]["serviceHours"][0]["validTo"] = json!("2026-04-01"); } => K::NotAllowed, (C, "office"), "serviceHours[0].validTo";
    connection_to_unknown_channel: V11, |d| { let i = find(d, "service", "permit"); d[i]["connections"] = json!([{"channel": "nope"}]); } => K::UnknownReference, (X, "permit"), "connections[0].channel";
    duplicate_connection: V11, |d| { let i = find(d, "service", "permit"); d[i]["connections"] = json!([{"channel": "web"}, {"channel": "web"}]); } => K::NotAllowed, (S, "permit"), "connections[1].channel";
    connection_hours_on_eservice: V11, |d| { let i = find(d, "service", "permit"); d[i]["connections"][0]["serviceHours"] = json!([{"type": "Standard", "openingHours": [{"dayFrom": "Monday", "from": "08:00", "to": "16:00"}]}]); } => K::NotAllowed, (X, "permit"), "connections[0].serviceHours";
    language_missing_in_organization: V11, |d| { let i = find(d, "service", "permit"); d[i]["languageVersions"]["en"] = json!({"name": "Permit", "summary": "A permit is needed.", "description": "Apply."}); } => K::LanguageMissing, (S, "permit"), "languageVersions.en";
    child_of_invalid_organization: V11, |d| { let i = find(d, "organization", "dept"); d[i]["businessCode"] = json!("bad"); } => K::DependsOnInvalid, (S, "permit"), "organization";
}

#[test]
fn base_is_valid() {
    let v = run(base(), V11);
    assert_eq!(v.errors(), 0, "{:#?}", v.findings);
    assert_eq!(v.valid_count(), 5);
    assert_eq!(v.connections.len(), 1);
}

#[test]
fn service_with_invalid_channel_is_sent_but_its_connections_are_held() {
    let mut d = base();
    let i = find(&d, "channel", "web");
    d[i]["languageVersions"]["fi"]["summary"] = json!("s".repeat(200));
    let v = run(d, V11);
    assert!(
        v.services.contains_key("permit"),
        "service itself stays valid"
    );
    assert!(
        !v.connections.contains_key("permit"),
        "its connection set is held back"
    );
    assert!(
        v.invalid
            .contains_key(&(X, SourceId::parse("permit").unwrap()))
    );
}

#[test]
fn v12_warns_about_what_it_cannot_carry() {
    let v = run(base(), V12);
    let hours = v
        .findings
        .iter()
        .find(|f| f.kind == K::NotSent && f.id == "office")
        .expect("service hours not sent on v12");
    assert_eq!(hours.path, "serviceHours");
    assert_eq!(v.errors(), 0);
}

#[test]
fn document_without_id_aborts_the_snapshot() {
    let err = parse_document(
        json!({"kind": "service"}),
        None,
        Origin {
            file: "x.yaml".into(),
            index: Some(3),
        },
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("x.yaml[3]") && msg.contains("without `id`"),
        "{msg}"
    );
}

#[test]
fn unknown_kind_aborts_the_snapshot() {
    let err = parse_document(
        json!({"kind": "widget", "id": "a"}),
        None,
        Origin {
            file: "x.yaml".into(),
            index: None,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown kind 'widget'"), "{err}");
}

// Issue 16 item 14 changed this from "aborts the snapshot": one broken file costs that
// file (listed as unreadable, which holds every archive back), not the whole source.
#[test]
fn broken_yaml_file_is_unreadable_with_file_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.yaml"),
        "- kind: organization\n  id: a\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.yaml"),
        "- kind: service\n  id: [unclosed\n",
    )
    .unwrap();
    let snapshot = ptv_sync::source::DirSource::new(dir.path()).read().unwrap();
    assert_eq!(snapshot.documents.len(), 1, "ok.yaml is read");
    let [u] = &snapshot.unreadable[..] else {
        panic!("{:?}", snapshot.unreadable)
    };
    assert!(
        u.file == "broken.yaml" && u.message.contains("does not parse"),
        "{u:?}"
    );
}

#[test]
fn missing_source_dir_aborts() {
    let err = ptv_sync::source::DirSource::new("/nonexistent/ptv-source")
        .read()
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/ptv-source"), "{err}");
}

#[test]
fn texts_are_normalised_at_the_edge() {
    let mut d = base();
    let i = find(&d, "service", "permit");
    d[i]["languageVersions"]["fi"]["name"] = json!("  Lupa   ");
    let v = run(d, V11);
    assert_eq!(
        v.services["permit"].language_versions[&ptv_sync::model::Lang::Fi]
            .name
            .as_str(),
        "Lupa"
    );
}

// Issue 17: DVV's content checklist (reference §11.6) as warnings that never block.

fn run_content(
    docs: Vec<Value>,
    general: Option<ptv_sync::validate::GeneralDescriptions>,
) -> Validated {
    let file: std::sync::Arc<str> = std::sync::Arc::from("test.yaml");
    let documents = docs
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            parse_document(
                v,
                None,
                Origin {
                    file: file.clone(),
                    index: Some(i),
                },
            )
            .expect("kind and id readable")
        })
        .collect();
    validate(
        &Snapshot {
            documents,
            ..Snapshot::default()
        },
        &ValidateOptions {
            api: ApiVersion::V11,
            content: true,
            general_descriptions: general.map(std::sync::Arc::new),
            ..ValidateOptions::default()
        },
    )
}

fn content_kinds(v: &Validated) -> Vec<(K, String)> {
    v.findings
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                K::ChannelDataInDescription
                    | K::SummaryRepeatsDescription
                    | K::CopiesGeneralDescription
            )
        })
        .map(|f| {
            assert_eq!(f.severity, ptv_sync::validate::Severity::Warning, "{f:?}");
            (f.kind, f.path.clone())
        })
        .collect()
}

#[test]
fn content_checks_find_channel_data_in_service_texts() {
    let mut docs = base();
    docs[4]["languageVersions"]["fi"]["description"] = json!(
        "Lupaa haetaan kirjaamosta. Soita 09 816 21 tai kirjoita kirjaamo@espoo.fi. \
         Lomakkeet ovat osoitteessa https://www.espoo.fi/luvat ja käyntiosoite on \
         Kamreerintie 3, 02770 Espoo."
    );
    let v = run_content(docs, None);
    assert_eq!(v.errors(), 0, "{:?}", v.findings);
    let found: Vec<String> = v
        .findings
        .iter()
        .filter(|f| f.kind == K::ChannelDataInDescription)
        .map(|f| f.message.clone())
        .collect();
    for what in [
        "a phone number",
        "an e-mail address",
        "a web address",
        "a street address",
    ] {
        assert!(
            found
                .iter()
                .any(|m| m.starts_with(&format!("holds {what}"))),
            "{what}: {found:?}"
        );
    }
    assert!(
        content_kinds(&v)
            .iter()
            .all(|(_, p)| p == "languageVersions.fi.description")
    );
}

#[test]
fn content_checks_find_a_summary_repeating_the_first_sentence() {
    let mut docs = base();
    docs[4]["languageVersions"]["fi"]["summary"] = json!("Lupaa haetaan kunnalta.");
    docs[4]["languageVersions"]["fi"]["description"] =
        json!("Lupaa haetaan  kunnalta. Käsittely kestää kaksi viikkoa.");
    let v = run_content(docs, None);
    assert_eq!(
        content_kinds(&v),
        vec![(
            K::SummaryRepeatsDescription,
            "languageVersions.fi.summary".to_owned()
        )]
    );
}

#[test]
fn content_checks_find_a_copied_general_description() {
    let gd_id = "6a3b8f41-0d1c-4c7e-9a57-3d3c3f0a2b10";
    let mut docs = base();
    docs[4]["generalDescription"] = json!(gd_id);
    docs[4]["languageVersions"]["fi"]["description"] = json!(
        "Rakennuslupa tarvitaan uuden rakennuksen rakentamiseen tai laajentamiseen. \
         Espoossa lupaa haetaan sähköisesti."
    );
    let general = ptv_sync::validate::GeneralDescriptions::from_json(
        &json!({gd_id: {"fi": "Rakennuslupa tarvitaan uuden rakennuksen rakentamiseen tai \
                              laajentamiseen. Lupa haetaan kunnan rakennusvalvonnasta."}})
        .to_string(),
    )
    .unwrap();
    let v = run_content(docs.clone(), Some(general));
    assert_eq!(
        content_kinds(&v),
        vec![(
            K::CopiesGeneralDescription,
            "languageVersions.fi.description".to_owned()
        )]
    );
    // Without the general description's text there is nothing to compare with.
    assert!(content_kinds(&run_content(docs, None)).is_empty());
}

#[test]
fn content_checks_stay_quiet_on_clean_texts_and_off_by_default() {
    assert!(content_kinds(&run_content(base(), None)).is_empty());
    let mut docs = base();
    docs[4]["languageVersions"]["fi"]["description"] = json!("Soita 09 816 21.");
    // `plan` and runs validate without them.
    assert!(content_kinds(&run(docs, ApiVersion::V11)).is_empty());
}
