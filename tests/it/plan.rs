//! The planner: creates, exact updates, archives in reverse order, and convergence.

use proptest::prelude::*;
use ptv_sync::model::{Action, ApiVersion, ItemKind};
use ptv_sync::plan::{Plan, PlanOptions, plan};
use ptv_sync::store::{PlanRow, RemoteState};
use ptv_sync::synth::{Shape, generate};
use ptv_sync::validate::{ValidateOptions, Validated, validate};
use serde_json::json;

fn opts() -> PlanOptions {
    PlanOptions {
        api: ApiVersion::V11,
        retry_after: chrono::Duration::hours(24),
        ..PlanOptions::default()
    }
}

fn validated(docs: &ptv_sync::synth::Docs) -> Validated {
    validate(&docs.snapshot(), &ValidateOptions::default())
}

/// What the store would hold after every writing step of `p` succeeded.
fn applied(v: &Validated, p: &Plan, mut prior: Vec<PlanRow>) -> Vec<PlanRow> {
    for s in p.steps.iter().filter(|s| s.action.writes()) {
        let payload = if s.action == Action::Archive {
            None
        } else {
            match s.kind {
                ItemKind::Organization => Some(ptv_sync::plan::payload(
                    v,
                    ptv_sync::plan::DesiredRef::Organization(&v.organizations[s.id.as_str()]),
                    None,
                )),
                ItemKind::Channel => Some(ptv_sync::plan::payload(
                    v,
                    ptv_sync::plan::DesiredRef::Channel(&v.channels[s.id.as_str()]),
                    None,
                )),
                ItemKind::Service => Some(ptv_sync::plan::payload(
                    v,
                    ptv_sync::plan::DesiredRef::Service(&v.services[s.id.as_str()]),
                    None,
                )),
                ItemKind::Connections => None,
            }
        };
        let remote = if s.action == Action::Archive {
            RemoteState::Archived
        } else {
            RemoteState::Live
        };
        let row = PlanRow {
            remote,
            payload: if s.action == Action::Archive {
                None
            } else {
                payload.map(Into::into)
            },
            ..PlanRow::pushed(s.kind, s.id.clone(), s.fingerprint, None)
        };
        match prior
            .iter_mut()
            .find(|p| p.kind == s.kind && p.source_id == s.id)
        {
            Some(p) => {
                p.remote = row.remote;
                if s.action != Action::Archive {
                    p.fingerprint = row.fingerprint;
                    p.payload = row.payload;
                }
            }
            None => prior.push(row),
        }
    }
    prior
}

#[test]
fn first_plan_creates_everything_in_dependency_order() {
    let docs = generate(Shape {
        items: 100,
        organizations: 3,
        seed: 1,
    });
    let v = validated(&docs);
    assert_eq!(v.errors(), 0);
    let p = plan(&v, &[], &opts());
    assert_eq!(
        p.count(Action::Create),
        v.valid_count() + v.connections.values().filter(|c| !c.is_empty()).count()
    );
    assert_order(&v, &p);
}

#[test]
fn after_applying_the_plan_is_empty_and_one_edit_is_one_update() {
    let mut docs = generate(Shape {
        items: 100,
        organizations: 3,
        seed: 7,
    });
    let v = validated(&docs);
    let p = plan(&v, &[], &opts());
    let state = applied(&v, &p, Vec::new());
    let again = plan(&v, &state, &opts());
    assert!(
        !again.has_changes(),
        "{:?}",
        again
            .steps
            .iter()
            .filter(|s| s.action.writes())
            .collect::<Vec<_>>()
    );

    docs.services[5]["languageVersions"]["sv"]["description"] =
        json!("En helt ny beskrivning av tjänsten.");
    let v2 = validated(&docs);
    let p2 = plan(&v2, &state, &opts());
    let writes: Vec<_> = p2.steps.iter().filter(|s| s.action.writes()).collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].action, Action::Update);
    assert_eq!(writes[0].id, docs.services[5]["id"].as_str().unwrap());
    assert_eq!(writes[0].changed, vec!["languageVersions.sv.description"]);
}

#[test]
fn archives_come_after_everything_and_children_before_parents() {
    let docs = generate(Shape {
        items: 60,
        organizations: 6,
        seed: 3,
    });
    let v = validated(&docs);
    let state = applied(&v, &plan(&v, &[], &opts()), Vec::new());
    let empty = validated(&ptv_sync::synth::Docs {
        organizations: docs.organizations[..3].to_vec(),
        ..Default::default()
    });
    let p = plan(&empty, &state, &opts());
    let archives: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.action == Action::Archive)
        .collect();
    assert!(!archives.is_empty());
    let last_non_org = archives
        .iter()
        .rposition(|s| s.kind != ItemKind::Organization)
        .unwrap();
    let first_org = archives
        .iter()
        .position(|s| s.kind == ItemKind::Organization)
        .unwrap();
    assert!(
        last_non_org < first_org,
        "services and channels are archived before organisations"
    );
    assert!(
        archives.iter().all(|s| s.kind != ItemKind::Connections),
        "connection sets go with their service"
    );
    assert_eq!(
        p.count(Action::Archive),
        state
            .iter()
            .filter(|p| p.kind != ItemKind::Connections)
            .count()
            - 3
    );
}

#[test]
fn protected_items_are_never_archived() {
    let docs = generate(Shape {
        items: 30,
        organizations: 3,
        seed: 4,
    });
    let v = validated(&docs);
    let mut state = applied(&v, &plan(&v, &[], &opts()), Vec::new());
    for p in &mut state {
        p.protected = p.kind == ItemKind::Service;
    }
    let mut fewer = docs.clone();
    fewer.services.clear();
    let p = plan(&validated(&fewer), &state, &opts());
    assert_eq!(p.count(Action::Archive), 0);
    assert_eq!(p.count(Action::Protected), docs.services.len());
}

#[test]
fn an_item_back_in_the_source_is_restored() {
    let docs = generate(Shape {
        items: 30,
        organizations: 3,
        seed: 5,
    });
    let v = validated(&docs);
    let mut state = applied(&v, &plan(&v, &[], &opts()), Vec::new());
    let id = docs.services[0]["id"].as_str().unwrap();
    state
        .iter_mut()
        .find(|p| p.kind == ItemKind::Service && p.source_id == id)
        .unwrap()
        .remote = RemoteState::Archived;
    let p = plan(&v, &state, &opts());
    let restores: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.action == Action::Restore)
        .collect();
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0].id, id);
}

/// The drift check's marks: an edit left under `report` (fingerprint kept) plans
/// nothing; one to overwrite (fingerprint cleared) and one archived in PTV are sent again,
/// with the drift note as the reason.
#[test]
fn drift_marks_plan_nothing_a_resend_or_a_restore_with_the_note_as_reason() {
    let docs = generate(Shape {
        items: 30,
        organizations: 3,
        seed: 5,
    });
    let v = validated(&docs);
    let mut state = applied(&v, &plan(&v, &[], &opts()), Vec::new());
    let note = |what: &str| {
        Some(Box::new(ptv_sync::store::ItemError {
            class: ptv_sync::store::ErrorClass::NeedsPerson,
            message: format!("{}{what}", ptv_sync::store::DRIFT_NOTE_PREFIX),
            fields: std::collections::BTreeMap::new(),
            fingerprint: None,
            at: chrono::Utc::now(),
        }))
    };
    let ids: Vec<&str> = (0..3)
        .map(|i| docs.services[i]["id"].as_str().unwrap())
        .collect();
    for p in state.iter_mut().filter(|p| p.kind == ItemKind::Service) {
        if p.source_id == ids[0] {
            p.failure = note("edited in PTV by editor: serviceNames.fi.Name");
        } else if p.source_id == ids[1] {
            p.failure = note("edited in PTV by editor: serviceNames.fi.Name");
            p.fingerprint = None;
        } else if p.source_id == ids[2] {
            p.failure = note("archived in PTV (Manual)");
            p.fingerprint = None;
            p.remote = RemoteState::Archived;
        }
    }
    let p = plan(&v, &state, &opts());
    let writes: Vec<_> = p.steps.iter().filter(|s| s.action.writes()).collect();
    assert_eq!(writes.len(), 2, "{writes:?}");
    let of = |id: &str| writes.iter().find(|s| s.id == id).unwrap();
    assert_eq!(of(ids[1]).action, Action::Update);
    assert!(of(ids[1]).changed.is_empty(), "the source did not change");
    assert_eq!(
        of(ids[1]).reason.as_deref(),
        Some("drift: edited in PTV by editor: serviceNames.fi.Name")
    );
    assert_eq!(of(ids[2]).action, Action::Restore);
    assert_eq!(
        of(ids[2]).reason.as_deref(),
        Some("drift: archived in PTV (Manual)")
    );
}

#[test]
fn archive_guard_trips_on_empty_snapshot_and_mass_deletion() {
    let docs = generate(Shape {
        items: 100,
        organizations: 3,
        seed: 6,
    });
    let v = validated(&docs);
    let state = applied(&v, &plan(&v, &[], &opts()), Vec::new());
    let live = state
        .iter()
        .filter(|p| p.kind != ItemKind::Connections)
        .count();
    let empty = validated(&ptv_sync::synth::Docs::default());
    let p = plan(&empty, &state, &opts());
    assert!(
        ptv_sync::plan::guard_trips(&p, 0, live, ptv_sync::plan::GuardLimits::default())
            .unwrap()
            .contains("empty")
    );
    let mut half = docs.clone();
    half.services.truncate(10);
    let p = plan(&validated(&half), &state, &opts());
    assert!(
        ptv_sync::plan::guard_trips(&p, half.len(), live, ptv_sync::plan::GuardLimits::default())
            .is_some()
    );
    let mut few = docs.clone();
    few.services.truncate(docs.services.len() - 3);
    let p = plan(&validated(&few), &state, &opts());
    assert!(
        ptv_sync::plan::guard_trips(&p, few.len(), live, ptv_sync::plan::GuardLimits::default())
            .is_none()
    );
}

fn assert_order(v: &Validated, p: &Plan) {
    let pos = |kind: ItemKind, id: &str| p.steps.iter().position(|s| s.kind == kind && s.id == id);
    for (i, s) in p
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.action.writes() && s.action != Action::Archive)
    {
        let deps: Vec<(ItemKind, String)> = match s.kind {
            ItemKind::Organization => v.organizations[s.id.as_str()]
                .parent
                .iter()
                .map(|p| (ItemKind::Organization, p.to_string()))
                .collect(),
            ItemKind::Channel => v.channels[s.id.as_str()]
                .organization
                .iter()
                .map(|o| (ItemKind::Organization, o.to_string()))
                .collect(),
            ItemKind::Service => v.services[s.id.as_str()]
                .organization
                .iter()
                .map(|o| (ItemKind::Organization, o.to_string()))
                .collect(),
            ItemKind::Connections => std::iter::once((ItemKind::Service, s.id.to_string()))
                .chain(
                    v.connections[s.id.as_str()]
                        .iter()
                        .map(|c| (ItemKind::Channel, c.channel.to_string())),
                )
                .collect(),
        };
        for (k, id) in deps {
            if let Some(j) = pos(k, &id) {
                assert!(
                    j < i,
                    "{} {} at {i} comes before its dependency {k} {id} at {j}",
                    s.kind,
                    s.id
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// For any snapshot and any churn, planning the state that results from applying a
    /// plan gives an empty plan, and every step comes after what it depends on.
    #[test]
    fn plans_converge_and_respect_dependencies(items in 10usize..150, orgs in 3usize..8, seed in 0u64..1000, share in 0.0f64..0.5) {
        let mut docs = generate(Shape { items, organizations: orgs, seed });
        let v = validated(&docs);
        let p = plan(&v, &[], &opts());
        assert_order(&v, &p);
        let state = applied(&v, &p, Vec::new());
        prop_assert!(!plan(&v, &state, &opts()).has_changes());
        ptv_sync::synth::churn(&mut docs, share, seed, 1);
        let v2 = validated(&docs);
        let p2 = plan(&v2, &state, &opts());
        assert_order(&v2, &p2);
        let state2 = applied(&v2, &p2, state);
        prop_assert!(!plan(&v2, &state2, &opts()).has_changes());
    }

    /// Re-reading the same documents (in any order) gives the same fingerprints.
    #[test]
    fn fingerprints_are_stable_under_reordering(seed in 0u64..500) {
        let docs = generate(Shape { items: 40, organizations: 3, seed });
        let a = plan(&validated(&docs), &[], &opts());
        let mut shuffled = docs.clone();
        let mut rng = fastrand::Rng::with_seed(seed);
        rng.shuffle(&mut shuffled.services);
        rng.shuffle(&mut shuffled.channels);
        let b = plan(&validated(&shuffled), &[], &opts());
        let fa: std::collections::BTreeMap<_, _> = a.steps.iter().map(|s| ((s.kind, s.id.clone()), s.fingerprint)).collect();
        let fb: std::collections::BTreeMap<_, _> = b.steps.iter().map(|s| ((s.kind, s.id.clone()), s.fingerprint)).collect();
        prop_assert_eq!(fa, fb);
    }
}
