//! The contract every `StateStore` must meet, written once for all backends.

use super::harness::Fixture;
use chrono::{DateTime, Duration, TimeZone, Utc};
use ptv_sync::model::{Action, ItemKind, Outcome, PtvId, PtvSourceId, SourceId};
use ptv_sync::store::{
    AuditBreak, AuditBreakKind, AuditEntry, ErrorClass, GENESIS_HASH, ItemError, ItemRecord,
    ItemStatus, NewAuditEntry, NewRun, OpenMode, OrgState, PlanRow, RemoteState, RunItem,
    RunOutcome, RunTrigger, StateStore, StoreError, sha256_hex,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

fn t(secs: i64, micros: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + secs, micros * 1000)
        .single()
        .expect("valid time")
}

fn sid(id: &str) -> SourceId {
    SourceId::parse(id).unwrap()
}

/// A record with every optional field set and non-default values everywhere.
fn full_record(org: &str, kind: ItemKind, source_id: &str) -> ItemRecord {
    ItemRecord {
        org: org.to_owned(),
        kind,
        source_id: sid(source_id),
        ptv_source_id: PtvSourceId::parse(&format!("{source_id}.g2")).unwrap(),
        generation: 2,
        ptv_id: Some(PtvId::parse("0b7e6a1c-1f0e-4f3a-9a55-0d4f3c2b1a00").unwrap()),
        remote: RemoteState::Live,
        fingerprint: Some("f".repeat(64)),
        payload: Some(
            json!({
                "zeta": 1,
                "alpha": [1.5, -2, null, true, "ä € 🦀 \"quoted\""],
                "nested": { "b": {}, "a": [] },
                "big": 9_007_199_254_740_993_u64
            })
            .into(),
        ),
        status: ItemStatus::Failed,
        last_error: Some(Box::new(ItemError {
            class: ErrorClass::NeedsPerson,
            message: "PTV said no: 'Name' is required".to_owned(),
            fields: BTreeMap::from([
                (
                    "serviceNames[0].value".to_owned(),
                    vec!["required".to_owned(), "too short".to_owned()],
                ),
                ("areas".to_owned(), vec![]),
            ]),
            fingerprint: Some("e".repeat(64)),
            at: t(30, 654_321),
        })),
        attempts: 3,
        protected: true,
        first_pushed_at: Some(t(10, 1)),
        last_pushed_at: Some(t(20, 999_999)),
        last_touched_at: t(30, 500_000),
    }
}

fn audit(org: &str, at: DateTime<Utc>, n: u32) -> NewAuditEntry {
    NewAuditEntry {
        at,
        org: org.to_owned(),
        actor: "daemon".to_owned(),
        action: Action::Update,
        kind: ItemKind::Service,
        source_id: format!("svc-{n}"),
        ptv_id: Some(format!("ptv-{n}")),
        http_status: Some(200),
        body_sha256: Some(sha256_hex(format!("body {n}").as_bytes())),
        // Some entries say why (the drift check's note): stored, read back and hashed.
        reason: n
            .is_multiple_of(3)
            .then(|| format!("drift: edited in PTV by editor {n}")),
    }
}

pub async fn item_round_trips_every_field(fx: Fixture) {
    let s = &fx.store;
    let full = full_record("espoo", ItemKind::Service, "s-1");
    let bare = ItemRecord::new("espoo", ItemKind::Channel, &sid("c-1"), t(0, 0));
    assert!(bare.payload.is_none() && bare.last_error.is_none() && bare.ptv_id.is_none());
    s.put_item(&full).await.unwrap();
    s.put_item(&bare).await.unwrap();

    let got = s
        .item("espoo", ItemKind::Service, "s-1")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got, full);
    // Object key order survives (PostgreSQL `json`, SQLite text), not just equality.
    assert_eq!(
        got.payload.as_ref().map(ptv_sync::store::Payload::as_str),
        full.payload.as_ref().map(ptv_sync::store::Payload::as_str)
    );
    assert_eq!(
        s.item("espoo", ItemKind::Channel, "c-1").await.unwrap(),
        Some(bare.clone())
    );

    // Every enum value survives.
    for (i, (remote, status)) in RemoteState::ALL
        .iter()
        .cycle()
        .zip(ItemStatus::ALL.iter())
        .enumerate()
    {
        for class in &ErrorClass::ALL {
            let mut r = ItemRecord::new(
                "espoo",
                ItemKind::Organization,
                &sid(&format!("o-{i}-{}", class.as_str().replace('_', "-"))),
                t(1, 0),
            );
            r.remote = *remote;
            r.status = *status;
            r.last_error = Some(Box::new(ItemError {
                class: *class,
                message: String::new(),
                fields: BTreeMap::new(),
                fingerprint: None,
                at: t(2, 0),
            }));
            s.put_item(&r).await.unwrap();
            assert_eq!(
                s.item("espoo", r.kind, r.source_id.as_str()).await.unwrap(),
                Some(r)
            );
        }
    }
    let mut conn = ItemRecord::new("espoo", ItemKind::Connections, &sid("s-1"), t(3, 0));
    conn.payload = Some(json!([]).into());
    s.put_item(&conn).await.unwrap();
    assert_eq!(
        s.item("espoo", ItemKind::Connections, "s-1").await.unwrap(),
        Some(conn)
    );
    assert_eq!(
        s.item("espoo", ItemKind::Service, "nope").await.unwrap(),
        None
    );
}

pub async fn timestamps_keep_microseconds(fx: Fixture) {
    let s = &fx.store;
    let nanos = Utc
        .timestamp_opt(1_790_000_000, 123_456_789)
        .single()
        .unwrap();
    let micros = Utc
        .timestamp_opt(1_790_000_000, 123_456_000)
        .single()
        .unwrap();
    let mut r = ItemRecord::new("o", ItemKind::Service, &sid("s"), nanos);
    r.first_pushed_at = Some(nanos);
    s.put_item(&r).await.unwrap();
    let got = s.item("o", ItemKind::Service, "s").await.unwrap().unwrap();
    assert_eq!(got.last_touched_at, micros);
    assert_eq!(got.first_pushed_at, Some(micros));

    let e = s.append_audit(&audit("o", nanos, 1)).await.unwrap();
    assert_eq!(e.at, micros);
    assert_eq!(s.audit_since(micros).await.unwrap(), vec![e]);
    assert!(s.verify_audit(None).await.unwrap().is_ok());
}

pub async fn put_item_upserts(fx: Fixture) {
    let s = &fx.store;
    let mut r = full_record("espoo", ItemKind::Service, "s-1");
    s.put_item(&r).await.unwrap();
    r.ptv_source_id = PtvSourceId::parse("s-1").unwrap();
    r.generation = 0;
    r.ptv_id = None;
    r.remote = RemoteState::Archived;
    r.fingerprint = None;
    r.payload = None;
    r.status = ItemStatus::Archived;
    r.last_error = None;
    r.attempts = 0;
    r.protected = false;
    r.first_pushed_at = None;
    r.last_pushed_at = None;
    r.last_touched_at = t(99, 0);
    s.put_item(&r).await.unwrap();
    assert_eq!(s.items("espoo").await.unwrap(), vec![r]);
}

pub async fn items_are_isolated_per_org(fx: Fixture) {
    let s = &fx.store;
    let a1 = ItemRecord::new("a", ItemKind::Service, &sid("2"), t(0, 0));
    let a2 = ItemRecord::new("a", ItemKind::Channel, &sid("1"), t(0, 0));
    let a3 = ItemRecord::new("a", ItemKind::Service, &sid("1"), t(0, 0));
    let b1 = ItemRecord::new("b", ItemKind::Service, &sid("1"), t(0, 0));
    s.put_items(&[a1.clone(), b1.clone(), a2.clone()])
        .await
        .unwrap();
    s.put_item(&a3).await.unwrap();
    // Ordered by kind, then source id.
    assert_eq!(s.items("a").await.unwrap(), vec![a2, a3, a1]);
    assert_eq!(s.items("b").await.unwrap(), vec![b1]);
    assert!(s.items("c").await.unwrap().is_empty());
    assert_eq!(s.item("b", ItemKind::Service, "2").await.unwrap(), None);
}

pub async fn source_id_taken_is_per_org_and_scope(fx: Fixture) {
    let s = &fx.store;
    let mut archived = ItemRecord::new("a", ItemKind::Service, &sid("x"), t(0, 0));
    archived.status = ItemStatus::Archived;
    archived.remote = RemoteState::Archived;
    let mut channel = ItemRecord::new("a", ItemKind::Channel, &sid("y"), t(0, 0));
    channel.ptv_source_id = PtvSourceId::parse("y.g1").unwrap();
    channel.generation = 1;
    let org = ItemRecord::new("a", ItemKind::Organization, &sid("z"), t(0, 0));
    let conns = ItemRecord::new("a", ItemKind::Connections, &sid("w"), t(0, 0));
    s.put_items(&[archived, channel, org, conns]).await.unwrap();

    assert!(
        s.source_id_taken("a", "service", "x").await.unwrap(),
        "archived rows still hold their id"
    );
    assert!(!s.source_id_taken("a", "channel", "x").await.unwrap());
    assert!(!s.source_id_taken("b", "service", "x").await.unwrap());
    assert!(s.source_id_taken("a", "channel", "y.g1").await.unwrap());
    assert!(!s.source_id_taken("a", "channel", "y").await.unwrap());
    assert!(s.source_id_taken("a", "organization", "z").await.unwrap());
    assert!(!s.source_id_taken("a", "service", "z").await.unwrap());
    assert!(
        !s.source_id_taken("a", "connections", "w").await.unwrap(),
        "connections have no sourceId"
    );
    assert_eq!(ptv_sync::store::ptv_scope(ItemKind::Connections), None);
}

pub async fn source_id_conflict_is_refused(fx: Fixture) {
    let s = &fx.store;
    s.put_item(&ItemRecord::new("a", ItemKind::Service, &sid("x"), t(0, 0)))
        .await
        .unwrap();
    // Another service of the organisation claiming PTV sourceId "x".
    let mut other = ItemRecord::new("a", ItemKind::Service, &sid("other"), t(0, 0));
    other.ptv_source_id = PtvSourceId::parse("x").unwrap();
    let err = s.put_item(&other).await.unwrap_err();
    assert!(matches!(err, StoreError::SourceIdConflict { .. }), "{err}");
    assert!(err.to_string().contains("a/service/other"), "{err}");
    let err = s.put_items(&[other.clone()]).await.unwrap_err();
    assert!(matches!(err, StoreError::SourceIdConflict { .. }), "{err}");
    assert_eq!(
        s.item("a", ItemKind::Service, "other").await.unwrap(),
        None,
        "batch rolled back"
    );

    // Same id in another namespace, another organisation, or for connections: fine.
    let mut channel = ItemRecord::new("a", ItemKind::Channel, &sid("other"), t(0, 0));
    channel.ptv_source_id = PtvSourceId::parse("x").unwrap();
    let mut elsewhere = other.clone();
    "b".clone_into(&mut elsewhere.org);
    let c1 = ItemRecord::new("a", ItemKind::Connections, &sid("x"), t(0, 0));
    let mut c2 = ItemRecord::new("a", ItemKind::Connections, &sid("y"), t(0, 0));
    c2.ptv_source_id = PtvSourceId::parse("x").unwrap();
    s.put_items(&[channel, elsewhere, c1, c2]).await.unwrap();
    assert_eq!(s.items("a").await.unwrap().len(), 4);
}

pub async fn invalid_records_are_refused(fx: Fixture) {
    let s = &fx.store;
    let mut r = ItemRecord::new("a", ItemKind::Service, &sid("x"), t(0, 0));
    r.attempts = -1;
    assert!(matches!(s.put_item(&r).await, Err(StoreError::Invalid(_))));
    assert!(matches!(
        s.put_items(&[r]).await,
        Err(StoreError::Invalid(_))
    ));
    let mut st = OrgState::new("a");
    st.guard_trips = -1;
    assert!(matches!(
        s.put_org_state(&st).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(s.items("a").await.unwrap().is_empty());
}

pub async fn protect_and_unprotect(fx: Fixture) {
    let s = &fx.store;
    let r = ItemRecord::new("a", ItemKind::Service, &sid("x"), t(0, 0));
    s.put_item(&r).await.unwrap();
    assert!(
        s.set_protected("a", ItemKind::Service, "x", true)
            .await
            .unwrap()
    );
    assert!(
        s.item("a", ItemKind::Service, "x")
            .await
            .unwrap()
            .unwrap()
            .protected
    );
    // Other fields untouched.
    let mut expected = r.clone();
    expected.protected = true;
    assert_eq!(
        s.item("a", ItemKind::Service, "x").await.unwrap(),
        Some(expected)
    );
    assert!(
        s.set_protected("a", ItemKind::Service, "x", false)
            .await
            .unwrap()
    );
    assert_eq!(s.item("a", ItemKind::Service, "x").await.unwrap(), Some(r));
    assert!(
        !s.set_protected("a", ItemKind::Service, "missing", true)
            .await
            .unwrap()
    );
    assert!(
        !s.set_protected("b", ItemKind::Service, "x", true)
            .await
            .unwrap()
    );
    assert!(
        !s.set_protected("a", ItemKind::Channel, "x", true)
            .await
            .unwrap()
    );
}

pub async fn runs_and_run_items(fx: Fixture) {
    let s = &fx.store;
    let before = Utc::now() - Duration::seconds(1);
    let first = s
        .begin_run(&NewRun {
            org: "a".into(),
            trigger: RunTrigger::Schedule,
            actor: "daemon".into(),
            started_at: t(0, 5),
            dry_run: false,
        })
        .await
        .unwrap();
    let second = s
        .begin_run(&NewRun {
            org: "a".into(),
            trigger: RunTrigger::Manual,
            actor: "alice".into(),
            started_at: t(60, 0),
            dry_run: true,
        })
        .await
        .unwrap();
    let other = s
        .begin_run(&NewRun {
            org: "b".into(),
            trigger: RunTrigger::Freshness,
            actor: "daemon".into(),
            started_at: t(0, 0),
            dry_run: false,
        })
        .await
        .unwrap();
    assert!(first < second && second < other);

    let running = s.last_runs("a", 10).await.unwrap();
    assert_eq!(running.len(), 2);
    assert_eq!(running[0].id, second);
    assert_eq!(running[0].outcome, RunOutcome::Running);
    assert_eq!(running[0].finished_at, None);
    assert_eq!(running[0].counts, json!({}));
    assert!(running[0].dry_run);
    assert_eq!(running[0].trigger, RunTrigger::Manual);
    assert_eq!(running[0].actor, "alice");
    assert_eq!(running[1].started_at, t(0, 5));

    let items = vec![
        RunItem {
            kind: ItemKind::Service,
            source_id: sid("s1"),
            action: Action::Create,
            outcome: Outcome::Ok,
            error: None,
        },
        RunItem {
            kind: ItemKind::Channel,
            source_id: sid("c1"),
            action: Action::Update,
            outcome: Outcome::Failed,
            error: Some("HTTP 400: name missing".into()),
        },
        RunItem {
            kind: ItemKind::Connections,
            source_id: sid("s1"),
            action: Action::Connections,
            outcome: Outcome::Blocked,
            error: None,
        },
    ];
    for item in &items {
        s.record_run_item(first, item).await.unwrap();
    }
    s.record_run_item(second, &items[0]).await.unwrap();
    assert_eq!(s.run_items(first).await.unwrap(), items);
    assert_eq!(s.run_items(second).await.unwrap(), items[..1].to_vec());
    assert!(s.run_items(other).await.unwrap().is_empty());

    let counts = json!({ "create": { "ok": 1 }, "update": { "failed": 1 }, "connections": { "blocked": 1 } });
    s.finish_run(first, RunOutcome::Partial, &counts, chrono::Utc::now())
        .await
        .unwrap();
    s.finish_run(
        other,
        RunOutcome::GuardTripped,
        &json!({}),
        chrono::Utc::now(),
    )
    .await
    .unwrap();

    let runs = s.last_runs("a", 10).await.unwrap();
    assert_eq!(runs[1].id, first);
    assert_eq!(runs[1].outcome, RunOutcome::Partial);
    assert_eq!(runs[1].counts, counts);
    let finished = runs[1].finished_at.expect("finished_at set");
    assert!(finished >= before && finished <= Utc::now() + Duration::seconds(1));
    assert_eq!(runs[0].outcome, RunOutcome::Running);

    let limited = s.last_runs("a", 1).await.unwrap();
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0].id, second);
    let b = s.last_runs("b", 10).await.unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].outcome, RunOutcome::GuardTripped);
    assert_eq!(b[0].trigger, RunTrigger::Freshness);
    assert!(s.last_runs("c", 10).await.unwrap().is_empty());
}

pub async fn unknown_run_is_reported(fx: Fixture) {
    let s = &fx.store;
    let item = RunItem {
        kind: ItemKind::Service,
        source_id: sid("s"),
        action: Action::Archive,
        outcome: Outcome::Skipped,
        error: None,
    };
    assert!(matches!(
        s.record_run_item(4242, &item).await,
        Err(StoreError::RunNotFound { run_id: 4242 })
    ));
    assert!(matches!(
        s.finish_run(4242, RunOutcome::Ok, &json!({}), chrono::Utc::now())
            .await,
        Err(StoreError::RunNotFound { run_id: 4242 })
    ));
}

pub async fn audit_append_links_and_verifies(fx: Fixture) {
    let s = &fx.store;
    let empty = s.verify_audit(None).await.unwrap();
    assert!(empty.is_ok());
    assert_eq!((empty.entries, empty.orgs), (0, 0));

    let a1 = s.append_audit(&audit("a", t(0, 0), 1)).await.unwrap();
    let b1 = s.append_audit(&audit("b", t(1, 0), 2)).await.unwrap();
    let mut bare = audit("a", t(2, 0), 3);
    bare.ptv_id = None;
    bare.http_status = None;
    bare.body_sha256 = None;
    bare.action = Action::Adopt;
    bare.kind = ItemKind::Organization;
    let a2 = s.append_audit(&bare).await.unwrap();

    assert_eq!(a1.prev_hash, GENESIS_HASH);
    assert_eq!(
        b1.prev_hash, GENESIS_HASH,
        "each organisation has its own chain"
    );
    assert_eq!(a2.prev_hash, a1.hash);
    assert!(a1.seq < b1.seq && b1.seq < a2.seq);
    assert_eq!(a1.hash.len(), 64);
    assert_ne!(a1.hash, b1.hash);
    assert_eq!(a2.ptv_id, None);
    assert_eq!(a2.http_status, None);

    // Stored exactly as returned.
    assert_eq!(s.audit_since(t(0, 0)).await.unwrap(), vec![a1, b1, a2]);

    let all = s.verify_audit(None).await.unwrap();
    assert!(all.is_ok(), "{:?}", all.broken);
    assert_eq!((all.entries, all.orgs), (3, 2));
    let a = s.verify_audit(Some("a")).await.unwrap();
    assert!(a.is_ok());
    assert_eq!((a.entries, a.orgs), (2, 1));
    let none = s.verify_audit(Some("zzz")).await.unwrap();
    assert_eq!((none.entries, none.orgs), (0, 0));
}

pub async fn audit_since_filters_by_time(fx: Fixture) {
    let s = &fx.store;
    let mut entries = Vec::new();
    for i in 0..5 {
        let org = if i % 2 == 0 { "a" } else { "b" };
        entries.push(
            s.append_audit(&audit(org, t(i * 10, 0), u32::try_from(i).unwrap()))
                .await
                .unwrap(),
        );
    }
    assert_eq!(s.audit_since(t(0, 0)).await.unwrap(), entries);
    assert_eq!(
        s.audit_since(t(20, 0)).await.unwrap(),
        entries[2..].to_vec()
    );
    assert_eq!(
        s.audit_since(t(20, 1)).await.unwrap(),
        entries[3..].to_vec()
    );
    assert!(s.audit_since(t(41, 0)).await.unwrap().is_empty());
}

pub async fn audit_is_append_only(fx: Fixture) {
    let s = &fx.store;
    s.append_audit(&audit("a", t(0, 0), 1)).await.unwrap();
    let err = fx
        .try_exec(
            "UPDATE audit SET actor = 'mallory'",
            "UPDATE audit SET actor = 'mallory'",
        )
        .await
        .expect_err("updates are refused by a trigger");
    assert!(err.contains("append-only"), "{err}");
}

/// Drops the append-only trigger, as someone with raw database access could.
async fn drop_guard_trigger(fx: &Fixture) {
    fx.exec(
        "DROP TRIGGER audit_no_update",
        "DROP TRIGGER audit_no_update ON audit",
    )
    .await;
}

pub async fn audit_tamper_is_detected(fx: Fixture) {
    let s = &fx.store;
    let mut seqs = Vec::new();
    for i in 0..5 {
        seqs.push(
            s.append_audit(&audit("a", t(i, 0), u32::try_from(i).unwrap()))
                .await
                .unwrap()
                .seq,
        );
        s.append_audit(&audit("b", t(i, 0), 100)).await.unwrap();
    }
    assert!(s.verify_audit(None).await.unwrap().is_ok());
    drop_guard_trigger(&fx).await;
    let target = seqs[2];
    let sql = format!("UPDATE audit SET http_status = 500 WHERE seq = {target}");
    fx.exec(&sql, &sql).await;

    for scope in [None, Some("a")] {
        let v = s.verify_audit(scope).await.unwrap();
        let broken = v.broken.expect("tampering detected");
        assert_eq!(broken.seq, target);
        assert_eq!(broken.org, "a");
        assert!(
            matches!(broken.kind, AuditBreakKind::HashMismatch { .. }),
            "{:?}",
            broken.kind
        );
        assert!(broken.to_string().contains(&target.to_string()));
    }
    assert!(
        s.verify_audit(Some("b")).await.unwrap().is_ok(),
        "other chains unaffected"
    );

    // Rewriting the hash as well does not help: the next entry no longer links.
    let sql = format!(
        "UPDATE audit SET hash = '{}' WHERE seq = {target}",
        "1".repeat(64)
    );
    fx.exec(&sql, &sql).await;
    let broken = s
        .verify_audit(Some("a"))
        .await
        .unwrap()
        .broken
        .expect("still detected");
    assert_eq!(broken.seq, target);
}

pub async fn audit_removed_entry_is_detected(fx: Fixture) {
    let s = &fx.store;
    let mut seqs = Vec::new();
    for i in 0..4 {
        seqs.push(
            s.append_audit(&audit("a", t(i, 0), u32::try_from(i).unwrap()))
                .await
                .unwrap()
                .seq,
        );
    }
    let sql = format!("DELETE FROM audit WHERE seq = {}", seqs[1]);
    fx.exec(&sql, &sql).await;
    let broken = s
        .verify_audit(None)
        .await
        .unwrap()
        .broken
        .expect("removal detected");
    assert_eq!(broken.seq, seqs[2]);
    assert!(matches!(broken.kind, AuditBreakKind::ChainMismatch { .. }));
}

pub async fn audit_concurrent_appends_keep_chains_valid(fx: Fixture) {
    let tasks: Vec<_> = (0..8u32)
        .map(|task| {
            let s: Arc<dyn StateStore> = Arc::clone(&fx.store);
            tokio::spawn(async move {
                for i in 0..25u32 {
                    let org = if i % 5 == 0 { "b" } else { "a" };
                    s.append_audit(&audit(org, Utc::now(), task * 1000 + i))
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let v = fx.store.verify_audit(None).await.unwrap();
    assert!(v.is_ok(), "{:?}", v.broken);
    assert_eq!((v.entries, v.orgs), (200, 2));
    // Each entry links to exactly one predecessor: no forks.
    let entries = fx.store.audit_since(t(-1_000_000_000, 0)).await.unwrap();
    for org in ["a", "b"] {
        let chain: Vec<_> = entries.iter().filter(|e| e.org == org).collect();
        let prevs: std::collections::HashSet<_> =
            chain.iter().map(|e| e.prev_hash.as_str()).collect();
        assert_eq!(prevs.len(), chain.len(), "a fork in the chain of {org}");
        assert_eq!(chain[0].prev_hash, GENESIS_HASH);
    }
}

pub async fn audit_prune_keeps_chains_verifiable(fx: Fixture) {
    let s = &fx.store;
    let mut a = Vec::new();
    for i in 0..5 {
        a.push(s.append_audit(&audit("a", t(i * 10, 0), 1)).await.unwrap());
    }
    // Organisation b's clock went backwards: its third entry is older than its second.
    let b0 = s.append_audit(&audit("b", t(0, 0), 2)).await.unwrap();
    let b1 = s.append_audit(&audit("b", t(30, 0), 2)).await.unwrap();
    let b2 = s.append_audit(&audit("b", t(5, 0), 2)).await.unwrap();

    // a: entries at 0 and 10 go; b: only the prefix before its first entry at >= 20.
    assert_eq!(s.prune_audit(t(20, 0)).await.unwrap(), 3);
    let left = s.audit_since(t(-1_000_000, 0)).await.unwrap();
    assert_eq!(
        left,
        vec![
            a[2].clone(),
            a[3].clone(),
            a[4].clone(),
            b1.clone(),
            b2.clone()
        ]
    );
    assert_ne!(b0.seq, b1.seq);
    let v = s.verify_audit(None).await.unwrap();
    assert!(v.is_ok(), "{:?}", v.broken);
    assert_eq!((v.entries, v.orgs), (5, 2));

    // Appends continue the pruned chain.
    let next = s.append_audit(&audit("a", t(60, 0), 1)).await.unwrap();
    assert_eq!(next.prev_hash, a[4].hash);
    assert!(s.verify_audit(Some("a")).await.unwrap().is_ok());
    assert_eq!(s.prune_audit(t(20, 0)).await.unwrap(), 0, "idempotent");
    // Everything older than far future: every chain loses everything.
    assert_eq!(s.prune_audit(t(1_000_000, 0)).await.unwrap(), 6);
    assert!(s.verify_audit(None).await.unwrap().is_ok());
}

/// Appends `n` entries of `org` (at 0, 10, 20, … seconds), then ends a run of `org`, which
/// records the chain's head.
async fn chain_with_run_end(s: &Arc<dyn StateStore>, org: &str, n: i64) -> Vec<AuditEntry> {
    let mut chain = Vec::new();
    for i in 0..n {
        chain.push(
            s.append_audit(&audit(org, t(i * 10, 0), u32::try_from(i).unwrap()))
                .await
                .unwrap(),
        );
    }
    run_end(s, org).await;
    chain
}

async fn run_end(s: &Arc<dyn StateStore>, org: &str) {
    let run = s
        .begin_run(&NewRun {
            org: org.into(),
            trigger: RunTrigger::Resync,
            actor: "daemon".into(),
            started_at: t(0, 0),
            dry_run: false,
        })
        .await
        .unwrap();
    s.finish_run(run, RunOutcome::Ok, &json!({}), chrono::Utc::now())
        .await
        .unwrap();
}

fn seqs_sql(entries: &[AuditEntry]) -> String {
    let seqs: Vec<String> = entries.iter().map(|e| e.seq.to_string()).collect();
    format!("DELETE FROM audit WHERE seq IN ({})", seqs.join(", "))
}

pub async fn audit_deleted_last_entries_are_detected(fx: Fixture) {
    let s = &fx.store;
    let a = chain_with_run_end(s, "a", 4).await;
    chain_with_run_end(s, "b", 2).await;
    assert!(s.verify_audit(None).await.unwrap().is_ok());

    let sql = seqs_sql(&a[2..]);
    fx.exec(&sql, &sql).await;
    let broken = s
        .verify_audit(None)
        .await
        .unwrap()
        .broken
        .expect("a shortened chain is detected");
    assert_eq!((broken.org.as_str(), broken.seq), ("a", a[3].seq));
    assert_eq!(
        broken.kind,
        AuditBreakKind::Truncated {
            head_seq: a[3].seq,
            head_hash: a[3].hash.clone(),
            last_seq: Some(a[1].seq),
        }
    );
    let shown = broken.to_string();
    for part in [
        "organisation a",
        &format!("entry {}", a[3].seq),
        &format!("after entry {}", a[1].seq),
        "backup",
    ] {
        assert!(shown.contains(part), "{shown:?} lacks {part:?}");
    }
    assert!(s.verify_audit(Some("b")).await.unwrap().is_ok());

    // Later appends and run ends do not hide the loss.
    s.append_audit(&audit("a", t(100, 0), 9)).await.unwrap();
    run_end(s, "a").await;
    let again = s.verify_audit(Some("a")).await.unwrap().broken;
    assert!(
        matches!(again, Some(AuditBreak { kind: AuditBreakKind::Truncated { head_seq, .. }, .. }) if head_seq == a[3].seq),
        "{again:?}"
    );
}

pub async fn audit_deleted_first_entries_are_detected(fx: Fixture) {
    let s = &fx.store;
    let a = chain_with_run_end(s, "a", 4).await;
    chain_with_run_end(s, "b", 2).await;
    let sql = seqs_sql(&a[..2]);
    fx.exec(&sql, &sql).await;
    let broken = s
        .verify_audit(None)
        .await
        .unwrap()
        .broken
        .expect("a chain without its start is detected");
    assert_eq!((broken.org.as_str(), broken.seq), ("a", a[2].seq));
    assert_eq!(
        broken.kind,
        AuditBreakKind::StartMissing {
            expected: GENESIS_HASH.to_owned(),
            found: a[1].hash.clone(),
        }
    );
    let shown = broken.to_string();
    for part in [
        "organisation a",
        &format!("before entry {}", a[2].seq),
        "no recorded prune",
        "backup",
    ] {
        assert!(shown.contains(part), "{shown:?} lacks {part:?}");
    }
    assert!(s.verify_audit(Some("b")).await.unwrap().is_ok());
}

pub async fn audit_deleted_chain_is_detected(fx: Fixture) {
    let s = &fx.store;
    let a = chain_with_run_end(s, "a", 3).await;
    chain_with_run_end(s, "b", 2).await;
    fx.exec(
        "DELETE FROM audit WHERE org = 'a'",
        "DELETE FROM audit WHERE org = 'a'",
    )
    .await;
    let v = s.verify_audit(None).await.unwrap();
    let broken = v.broken.expect("a deleted chain is detected");
    assert_eq!((broken.org.as_str(), broken.seq), ("a", a[2].seq));
    assert_eq!(
        broken.kind,
        AuditBreakKind::Truncated {
            head_seq: a[2].seq,
            head_hash: a[2].hash.clone(),
            last_seq: None,
        }
    );
    assert!(broken.to_string().contains("no entry is left"), "{broken}");
    assert!(!s.verify_audit(Some("a")).await.unwrap().is_ok());
    assert!(s.verify_audit(Some("b")).await.unwrap().is_ok());
}

pub async fn audit_prune_is_recorded_as_the_new_start(fx: Fixture) {
    let s = &fx.store;
    let a = chain_with_run_end(s, "a", 5).await;
    chain_with_run_end(s, "b", 2).await;
    // a loses its entries at 0 and 10; b all of its own (at 0 and 10), its recorded head
    // included.
    assert_eq!(s.prune_audit(t(20, 0)).await.unwrap(), 4);
    let v = s.verify_audit(None).await.unwrap();
    assert!(v.is_ok(), "{:?}", v.broken);
    assert_eq!((v.entries, v.orgs), (3, 1));

    // Removing more from the start than the prune did is not retention.
    let sql = seqs_sql(&a[2..3]);
    fx.exec(&sql, &sql).await;
    let broken = s.verify_audit(Some("a")).await.unwrap().broken;
    assert_eq!(
        broken.map(|b| (b.seq, b.kind)),
        Some((
            a[3].seq,
            AuditBreakKind::StartMissing {
                expected: a[1].hash.clone(),
                found: a[2].hash.clone(),
            }
        ))
    );

    // A prune of everything, the recorded heads included, still verifies.
    s.prune_audit(t(1_000_000, 0)).await.unwrap();
    let v = s.verify_audit(None).await.unwrap();
    assert!(v.is_ok(), "{:?}", v.broken);
    assert_eq!(v.entries, 0);
    // And the chain continues from the pruned head.
    let next = s
        .append_audit(&audit("a", t(2_000_000, 0), 7))
        .await
        .unwrap();
    assert_eq!(next.prev_hash, a[4].hash);
    run_end(s, "a").await;
    assert!(s.verify_audit(None).await.unwrap().is_ok());
}

/// The statement of migration 0002 that anchors the chains existing before it.
fn anchor_migration(sql: &str) -> String {
    let at = sql
        .find("INSERT INTO audit_anchors")
        .expect("migration 0002 anchors existing chains");
    sql[at..].to_owned()
}

pub async fn audit_anchor_migration_keeps_old_chains_verifiable(fx: Fixture) {
    let s = &fx.store;
    let mut a = Vec::new();
    let mut b = Vec::new();
    for i in 0..4 {
        a.push(s.append_audit(&audit("a", t(i * 10, 0), 1)).await.unwrap());
        b.push(s.append_audit(&audit("b", t(i * 10, 0), 2)).await.unwrap());
    }
    s.prune_audit(t(15, 0)).await.unwrap();
    s.append_audit(&audit("c", t(0, 0), 3)).await.unwrap();
    // As a database migrated from 0001: chains (b pruned before anchors existed), no anchors.
    fx.exec("DELETE FROM audit_anchors", "DELETE FROM audit_anchors")
        .await;
    fx.exec(
        &anchor_migration(include_str!(
            "../../../migrations/sqlite/0002_audit_anchors.sql"
        )),
        &anchor_migration(include_str!(
            "../../../migrations/postgres/0002_audit_anchors.sql"
        )),
    )
    .await;
    let v = s.verify_audit(None).await.unwrap();
    assert!(v.is_ok(), "{:?}", v.broken);
    assert_eq!((v.entries, v.orgs), (5, 3));

    // The heads and starts the migration recorded hold from then on.
    let sql = seqs_sql(&a[3..]);
    fx.exec(&sql, &sql).await;
    let broken = s.verify_audit(Some("a")).await.unwrap().broken;
    assert!(
        matches!(&broken, Some(AuditBreak { kind: AuditBreakKind::Truncated { head_seq, .. }, .. }) if *head_seq == a[3].seq),
        "{broken:?}"
    );
    let sql = seqs_sql(&b[2..3]);
    fx.exec(&sql, &sql).await;
    let broken = s.verify_audit(Some("b")).await.unwrap().broken;
    assert_eq!(
        broken.map(|b| b.kind),
        Some(AuditBreakKind::StartMissing {
            expected: b[1].hash.clone(),
            found: b[2].hash.clone(),
        })
    );
}

pub async fn item_and_audit_entry_commit_together(fx: Fixture) {
    let s = &fx.store;
    let rec = full_record("a", ItemKind::Service, "s-1");
    let e = s
        .put_item_audited(&rec, &audit("a", t(0, 0), 1))
        .await
        .unwrap();
    assert_eq!(e.prev_hash, GENESIS_HASH);
    assert_eq!(
        s.item("a", ItemKind::Service, "s-1").await.unwrap(),
        Some(rec.clone())
    );
    assert_eq!(s.audit_since(t(-1, 0)).await.unwrap(), vec![e]);

    // The row is refused (its PTV sourceId is another row's): no audit entry either.
    let mut clash = full_record("a", ItemKind::Service, "s-2");
    clash.ptv_source_id.clone_from(&rec.ptv_source_id);
    let refused = s.put_item_audited(&clash, &audit("a", t(1, 0), 2)).await;
    assert!(
        matches!(refused, Err(StoreError::SourceIdConflict { .. })),
        "{refused:?}"
    );
    assert_eq!(s.audit_since(t(-1, 0)).await.unwrap().len(), 1);
    assert_eq!(s.item("a", ItemKind::Service, "s-2").await.unwrap(), None);
    assert!(s.verify_audit(None).await.unwrap().is_ok());
}

pub async fn drift_cursor_round_trips_and_clears(fx: Fixture) {
    let s = &fx.store;
    assert_eq!(s.drift_cursor("a").await.unwrap(), None);
    s.set_drift_cursor("a", Some("service/s-1")).await.unwrap();
    s.set_drift_cursor("a", Some("service/s-2")).await.unwrap();
    s.set_drift_cursor("b", Some("channel/c-1")).await.unwrap();
    assert_eq!(
        s.drift_cursor("a").await.unwrap().as_deref(),
        Some("service/s-2")
    );
    s.set_drift_cursor("a", None).await.unwrap();
    assert_eq!(s.drift_cursor("a").await.unwrap(), None);
    assert_eq!(
        s.drift_cursor("b").await.unwrap().as_deref(),
        Some("channel/c-1")
    );
}

pub async fn org_state_round_trips_and_upserts(fx: Fixture) {
    let s = &fx.store;
    assert_eq!(s.org_state("a").await.unwrap(), None);
    let bare = OrgState::new("a");
    s.put_org_state(&bare).await.unwrap();
    assert_eq!(s.org_state("a").await.unwrap(), Some(bare));

    let run = s
        .begin_run(&NewRun {
            org: "a".into(),
            trigger: RunTrigger::Resync,
            actor: "daemon".into(),
            started_at: t(0, 0),
            dry_run: false,
        })
        .await
        .unwrap();
    let full = OrgState {
        org: "a".into(),
        last_run_id: Some(run),
        last_success_at: Some(t(1, 1)),
        last_run_at: Some(t(2, 2)),
        guard_trips: 7,
        token_expires_at: Some(t(3, 3)),
        next_run_at: Some(t(4, 4)),
    };
    s.put_org_state(&full).await.unwrap();
    assert_eq!(s.org_state("a").await.unwrap(), Some(full.clone()));
    assert_eq!(s.org_state("b").await.unwrap(), None);
    let other = OrgState {
        org: "b".into(),
        guard_trips: 1,
        ..OrgState::new("b")
    };
    s.put_org_state(&other).await.unwrap();
    assert_eq!(s.org_state("a").await.unwrap(), Some(full));
    assert_eq!(s.org_state("b").await.unwrap(), Some(other));
}

pub async fn lock_org_is_exclusive(fx: Fixture) {
    let first = fx.open_again(OpenMode::CreateIfMissing).await;
    let second = fx.open_again(OpenMode::MustExist).await;

    let a = first.lock_org("a").await.unwrap().expect("free lock");
    assert_eq!(a.org(), "a");
    assert!(
        first.lock_org("a").await.unwrap().is_none(),
        "same instance, same org"
    );
    let b = first.lock_org("b").await.unwrap().expect("another org");
    assert!(
        second.lock_org("a").await.unwrap().is_none(),
        "another instance"
    );
    if fx.is_sqlite() {
        // The file lock belongs to the first instance for its whole life.
        assert!(second.lock_org("c").await.unwrap().is_none());
    } else {
        let c = second
            .lock_org("c")
            .await
            .unwrap()
            .expect("PostgreSQL locks are per organisation");
        c.release().await.unwrap();
    }

    a.release().await.unwrap();
    let again = first
        .lock_org("a")
        .await
        .unwrap()
        .expect("released lock is free again");
    if !fx.is_sqlite() {
        drop(again);
        let taken = eventually(|| second.lock_org("a")).await;
        assert!(first.lock_org("a").await.unwrap().is_none());
        taken.release().await.unwrap();
    }
    b.release().await.unwrap();
}

/// Retries until the lock is free: a dropped `PostgreSQL` session ends asynchronously.
async fn eventually<F, Fut>(mut attempt: F) -> ptv_sync::store::OrgLock
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<ptv_sync::store::OrgLock>, StoreError>>,
{
    for _ in 0..100 {
        if let Some(lock) = attempt().await.unwrap() {
            return lock;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("lock still held after 5 s");
}

pub async fn lock_org_is_freed_on_drop(fx: Fixture) {
    let first = fx.open_again(OpenMode::CreateIfMissing).await;
    let lock = first.lock_org("a").await.unwrap().expect("free lock");
    let second = fx.open_again(OpenMode::MustExist).await;
    assert!(second.lock_org("a").await.unwrap().is_none());
    // The holder goes away without releasing (as a crashed process would).
    drop(lock);
    drop(first);
    let taken = eventually(|| second.lock_org("a")).await;
    assert_eq!(taken.org(), "a");
}

pub async fn must_exist_opens_a_current_database(fx: Fixture) {
    let r = full_record("a", ItemKind::Service, "x");
    fx.store.put_item(&r).await.unwrap();
    let cli = fx.open_again(OpenMode::MustExist).await;
    assert_eq!(cli.items("a").await.unwrap(), vec![r]);
    assert!(
        cli.set_protected("a", ItemKind::Service, "x", false)
            .await
            .unwrap(),
        "CLI may write"
    );
    assert!(
        !fx.store
            .item("a", ItemKind::Service, "x")
            .await
            .unwrap()
            .unwrap()
            .protected
    );
}

pub async fn must_exist_refuses_outdated_or_newer_schema(fx: Fixture) {
    let sql = "UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 1";
    let pg = "UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = 1";
    fx.exec(sql, pg).await;
    let err = ptv_sync::store::open(&fx.target, OpenMode::MustExist)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::MigrationChanged { version: 1, .. }),
        "{err}"
    );

    let sql = "DELETE FROM _sqlx_migrations WHERE version = 1";
    fx.exec(sql, sql).await;
    let err = ptv_sync::store::open(&fx.target, OpenMode::MustExist)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::MigrationsPending { .. }), "{err}");
    assert!(err.to_string().contains("restart the daemon"), "{err}");

    let sql = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
               VALUES (99999, 'future', TRUE, X'00', 0)";
    let pg = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
              VALUES (99999, 'future', TRUE, '\\x00', 0)";
    fx.exec(sql, pg).await;
    let err = ptv_sync::store::open(&fx.target, OpenMode::MustExist)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { version: 99999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade ptv-sync"), "{err}");

    fx.exec("DROP TABLE _sqlx_migrations", "DROP TABLE _sqlx_migrations")
        .await;
    let err = ptv_sync::store::open(&fx.target, OpenMode::MustExist)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotInitialised { .. }), "{err}");
    assert!(err.to_string().contains("start the daemon once"), "{err}");
}

pub async fn put_items_writes_ten_thousand_rows(fx: Fixture) {
    let s = &fx.store;
    let kinds = [ItemKind::Service, ItemKind::Channel];
    let mut recs: Vec<ItemRecord> = (0..10_000)
        .map(|i| {
            let org = if i % 4 == 0 { "b" } else { "a" };
            let mut r = ItemRecord::new(org, kinds[i % 2], &sid(&format!("id-{i:05}")), t(0, 0));
            r.payload = Some(json!({ "n": i }).into());
            r.attempts = i32::try_from(i % 7).unwrap();
            r
        })
        .collect();
    // A duplicate key in the batch: the last one wins.
    let mut dup = recs[1].clone();
    dup.fingerprint = Some("last".into());
    recs.push(dup.clone());
    s.put_items(&recs).await.unwrap();

    let a = s.items("a").await.unwrap();
    let b = s.items("b").await.unwrap();
    assert_eq!((a.len(), b.len()), (7_500, 2_500));
    assert_eq!(
        s.item("a", dup.kind, dup.source_id.as_str()).await.unwrap(),
        Some(dup)
    );
    assert_eq!(
        s.item("b", ItemKind::Service, "id-09996").await.unwrap(),
        Some(recs[9996].clone())
    );
    assert!(a.iter().all(|r| {
        r.payload
            .as_ref()
            .and_then(|p| p.value()["n"].as_u64())
            .is_some()
    }));

    // A second batch updates in place.
    let updated: Vec<ItemRecord> = recs[..5_000]
        .iter()
        .map(|r| ItemRecord {
            status: ItemStatus::Archived,
            ..r.clone()
        })
        .collect();
    s.put_items(&updated).await.unwrap();
    let a = s.items("a").await.unwrap();
    assert_eq!(a.len(), 7_500);
    let archived = a
        .iter()
        .chain(s.items("b").await.unwrap().iter())
        .filter(|r| r.status == ItemStatus::Archived)
        .count();
    assert_eq!(archived, 5_000);
    s.put_items(&[]).await.unwrap();
}

pub async fn ping_and_backend(fx: Fixture) {
    fx.store.ping().await.unwrap();
    let expected = if fx.is_sqlite() { "sqlite" } else { "postgres" };
    assert_eq!(fx.store.backend(), expected);
}

pub async fn lock_check_detects_a_lost_lock(fx: Fixture) {
    let holder = fx.open_again(OpenMode::CreateIfMissing).await;
    let other = fx.open_again(OpenMode::MustExist).await;
    let mut lock = holder.lock_org("a").await.unwrap().expect("free lock");
    lock.check().await.unwrap();
    if fx.is_sqlite() {
        // A file lock cannot be lost while the process lives.
        assert!(other.lock_org("a").await.unwrap().is_none());
        return;
    }
    // An operator (or a network failure) ends the lock session of this database.
    let kill = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = '{}' AND datname = current_database()",
        ptv_sync::store::LOCK_APPLICATION_NAME
    );
    fx.exec("SELECT 1", &kill).await;
    let err = lock.check().await.unwrap_err();
    assert!(matches!(err, StoreError::LockLost { .. }), "{err}");
    assert!(err.to_string().contains("stop writing"), "{err}");
    assert!(lock.check().await.is_err(), "stays lost");
    let taken = eventually(|| other.lock_org("a")).await;
    taken.release().await.unwrap();
    lock.release().await.unwrap();
}

/// Recomputes the documented encoding (see `src/store/audit.rs`) independently of the
/// store: a change of the encoding would make old chains unverifiable.
fn documented_hash(e: &ptv_sync::store::AuditEntry) -> String {
    use sha2::{Digest, Sha256};
    fn s(h: &mut Sha256, v: &str) {
        h.update(u32::try_from(v.len()).unwrap().to_be_bytes());
        h.update(v.as_bytes());
    }
    fn o(h: &mut Sha256, v: Option<&str>) {
        match v {
            None => h.update([0]),
            Some(v) => {
                h.update([1]);
                s(h, v);
            }
        }
    }
    let mut h = Sha256::new();
    h.update(e.prev_hash.as_bytes());
    s(&mut h, "ptv-sync-audit-v1");
    h.update(e.at.timestamp_micros().to_be_bytes());
    s(&mut h, &e.org);
    s(&mut h, &e.actor);
    s(&mut h, e.action.as_str());
    s(&mut h, e.kind.as_str());
    s(&mut h, &e.source_id);
    o(&mut h, e.ptv_id.as_deref());
    match e.http_status {
        None => h.update([0]),
        Some(code) => {
            h.update([1]);
            h.update(code.to_be_bytes());
        }
    }
    o(&mut h, e.body_sha256.as_deref());
    // Only an entry with a reason has this part: older entries keep their hashes.
    if let Some(reason) = &e.reason {
        h.update([2]);
        s(&mut h, reason);
    }
    hex::encode(h.finalize())
}

pub async fn audit_hash_follows_the_documented_encoding(fx: Fixture) {
    let s = &fx.store;
    let first = s.append_audit(&audit("a", t(0, 123_456), 1)).await.unwrap();
    let mut bare = audit("a", t(1, 0), 2);
    bare.ptv_id = None;
    bare.http_status = None;
    bare.body_sha256 = None;
    let second = s.append_audit(&bare).await.unwrap();
    let third = s.append_audit(&audit("a", t(2, 0), 3)).await.unwrap();
    assert!(third.reason.is_some());
    for e in [&first, &second, &third] {
        assert_eq!(e.hash, documented_hash(e));
        assert_eq!(e.hash, e.computed_hash());
    }
    assert_eq!(second.prev_hash, first.hash);
    let mut without = third.clone();
    without.reason = None;
    assert_ne!(without.computed_hash(), third.hash, "the reason is hashed");
    assert_eq!(s.audit_since(t(2, 0)).await.unwrap(), vec![third]);
}

/// 12,000 rows of organisation "a" (several of the pages `SQLite` lists them in) and one of
/// "b", in every kind, remote state and failure class, with and without PTV ids.
async fn many_rows(s: &dyn StateStore) {
    let kinds = [
        ItemKind::Service,
        ItemKind::Channel,
        ItemKind::Organization,
        ItemKind::Connections,
    ];
    let recs: Vec<ItemRecord> = (0..12_000)
        .map(|i| {
            let mut r = ItemRecord::new(
                "a",
                kinds[i % 4],
                &sid(&format!("id-{i:05}")),
                t(0, u32::try_from(i % 60).unwrap()),
            );
            r.ptv_source_id = PtvSourceId::parse(&format!("p-{i}")).unwrap();
            r.payload = Some(json!({ "n": i, "parent": "x" }).into());
            // Some stored texts are no fingerprint of ours.
            r.fingerprint = match i % 13 {
                0 => None,
                1 => Some(format!("FP-{i}")),
                _ => Some(format!("{i:064x}")),
            };
            r.remote = [
                RemoteState::Live,
                RemoteState::Absent,
                RemoteState::Archived,
            ][i % 3];
            r.ptv_id = (r.remote != RemoteState::Absent)
                .then(|| PtvId::parse(&format!("00000000-0000-4000-8000-{i:012}")).unwrap());
            r.attempts = i32::try_from(i % 4).unwrap();
            r.protected = i % 5 == 0;
            if i % 9 == 0 || i % 11 == 0 {
                r.last_error = Some(Box::new(ItemError {
                    class: if i % 9 == 0 {
                        ErrorClass::Terminal
                    } else {
                        ErrorClass::Transient
                    },
                    message: format!("failed {i}"),
                    fields: BTreeMap::new(),
                    fingerprint: Some(format!("{i:064x}")),
                    at: t(1, 0),
                }));
            }
            r
        })
        .collect();
    s.put_items(&recs).await.unwrap();
    s.put_item(&ItemRecord::new(
        "b",
        ItemKind::Service,
        &sid("other-org"),
        t(0, 0),
    ))
    .await
    .unwrap();
}

/// Heads are the rows of `items` in the same order, without the payloads of services and
/// channels.
pub async fn item_heads_are_items_without_service_and_channel_payloads(fx: Fixture) {
    let s = &fx.store;
    many_rows(s.as_ref()).await;

    let items = s.items("a").await.unwrap();
    let heads = s.item_heads("a").await.unwrap();
    assert_eq!(heads.len(), 12_000);
    let expected: Vec<ItemRecord> = items
        .into_iter()
        .map(|mut r| {
            if matches!(r.kind, ItemKind::Service | ItemKind::Channel) {
                r.payload = None;
            }
            r
        })
        .collect();
    assert_eq!(heads, expected);
    assert!(
        heads
            .iter()
            .filter(|r| matches!(r.kind, ItemKind::Organization | ItemKind::Connections))
            .all(|r| r.payload.is_some())
    );
    assert!(s.item_heads("nobody").await.unwrap().is_empty());
}

/// A stored id that is not one (a hand edit) is a store error naming the item and the
/// column, on every read of rows, never a step that fails later.
pub async fn stored_ids_are_parsed_on_read(fx: Fixture) {
    let s = &fx.store;
    let r = ItemRecord::new("a", ItemKind::Service, &sid("x"), t(0, 0));
    s.put_item(&r).await.unwrap();
    let sql = "UPDATE items SET source_id = 'bad_id' WHERE source_id = 'x'";
    fx.exec(sql, sql).await;
    let errors = [
        s.items("a").await.map(|_| ()),
        s.item_heads("a").await.map(|_| ()),
        s.plan_rows("a").await.map(|_| ()),
    ];
    for e in errors {
        let e = e.expect_err("a corrupt row is refused");
        let text = e.to_string();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{text}");
        assert!(
            text.contains("a/service/bad_id") && text.contains("source_id"),
            "{text}"
        );
    }
    // The PTV id and the PTV sourceId are parsed on read too.
    for (org, column, bad) in [("b", "ptv_id", "guid-1"), ("c", "ptv_source_id", "b_c")] {
        let r = ItemRecord::new(org, ItemKind::Service, &sid("y"), t(0, 0));
        s.put_item(&r).await.unwrap();
        let sql = format!("UPDATE items SET {column} = '{bad}' WHERE org = '{org}'");
        fx.exec(&sql, &sql).await;
        let e = s.items(org).await.expect_err("a corrupt row is refused");
        let text = e.to_string();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{text}");
        assert!(
            text.contains(&format!("{org}/service/y"))
                && text.contains(column)
                && text.contains(bad),
            "{text}"
        );
    }
}

/// Plan rows are what a plan needs of `items`, in the same order: no payloads of services
/// and channels, PTV ids of channels only, and only failures that hold an item back.
pub async fn plan_rows_are_what_a_plan_needs_of_each_item(fx: Fixture) {
    let s = &fx.store;
    many_rows(s.as_ref()).await;
    let items = s.items("a").await.unwrap();
    let rows = s.plan_rows("a").await.unwrap();
    assert_eq!(rows.len(), 12_000);
    let expected: Vec<PlanRow> = items
        .iter()
        .map(|r| {
            let mut row = PlanRow::from(r);
            if matches!(r.kind, ItemKind::Service | ItemKind::Channel) {
                row.payload = None;
            }
            row
        })
        .collect();
    assert_eq!(rows, expected);

    // What `PlanRow::from` keeps, checked on its own rather than trusted.
    let channel = rows
        .iter()
        .zip(&items)
        .find(|(_, r)| r.kind == ItemKind::Channel && r.ptv_id.is_some())
        .unwrap();
    assert_eq!(
        channel.0.channel_ptv_id.as_deref(),
        channel.1.ptv_id.map(|id| id.to_string()).as_deref()
    );
    assert!(
        rows.iter()
            .filter(|r| r.kind != ItemKind::Channel)
            .all(|r| r.channel_ptv_id.is_none())
    );
    for (row, rec) in rows.iter().zip(&items) {
        assert_eq!(row.source_id, rec.source_id.as_str());
        assert_eq!(
            row.fingerprint.map(|f| f.to_string()),
            rec.fingerprint.clone().filter(|f| !f.starts_with("FP-")),
            "{}",
            rec.key()
        );
        let class = rec.last_error.as_ref().map(|e| e.class);
        assert_eq!(
            row.failure.is_some(),
            class == Some(ErrorClass::Terminal),
            "{}",
            rec.key()
        );
        assert_eq!(
            row.maybe_in_ptv,
            rec.remote == RemoteState::Absent && (rec.attempts > 0 || class.is_some()),
            "{}",
            rec.key()
        );
    }
    assert!(rows.iter().any(|r| r.maybe_in_ptv));
    assert!(s.plan_rows("nobody").await.unwrap().is_empty());
}

/// Issue 16 item 20: `/metrics` counts items by state in the database; the counts are
/// those of the items themselves.
pub async fn item_state_counts_agree_with_the_items(fx: Fixture) {
    let s = &fx.store;
    many_rows(s.as_ref()).await;
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in s.items("a").await.unwrap() {
        *expected
            .entry((r.remote.to_string(), r.status.to_string()))
            .or_default() += 1;
    }
    assert!(expected.len() > 1, "{expected:?}");
    let counted: BTreeMap<(String, String), u64> = s
        .item_state_counts("a")
        .await
        .unwrap()
        .into_iter()
        .map(|(remote, status, n)| ((remote.to_string(), status.to_string()), n))
        .collect();
    assert_eq!(counted, expected);
    assert!(s.item_state_counts("nobody").await.unwrap().is_empty());
}

/// Issue 15: the oldest last write of live services and channels, found by the
/// database; organisations, connection sets and archived items do not count.
pub async fn oldest_write_is_of_live_services_and_channels(fx: Fixture) {
    let s = &fx.store;
    assert_eq!(s.oldest_write("a").await.unwrap(), None);
    let at = |kind, id: &str, remote, secs| {
        let mut r = ItemRecord::new("a", kind, &sid(id), t(0, 0));
        r.remote = remote;
        r.last_pushed_at = Some(t(secs, 250));
        r
    };
    s.put_items(&[
        at(ItemKind::Organization, "o", RemoteState::Live, 1),
        at(ItemKind::Connections, "c", RemoteState::Live, 2),
        at(ItemKind::Service, "gone", RemoteState::Archived, 3),
        at(ItemKind::Channel, "ch", RemoteState::Live, 50),
        at(ItemKind::Service, "svc", RemoteState::Live, 40),
        ItemRecord::new("a", ItemKind::Service, &sid("never"), t(0, 0)),
    ])
    .await
    .unwrap();
    assert_eq!(s.oldest_write("a").await.unwrap(), Some(t(40, 250)));
    assert_eq!(s.oldest_write("b").await.unwrap(), None);
}

/// Issue 16 item 6: retention of runs deletes finished runs older than the cut with their
/// items, and keeps newer and unfinished ones.
pub async fn prune_runs_deletes_finished_runs_with_their_items(fx: Fixture) {
    let s = &fx.store;
    let run = async |org: &str| {
        s.begin_run(&NewRun {
            org: org.into(),
            trigger: RunTrigger::Schedule,
            actor: "daemon".into(),
            started_at: t(0, 0),
            dry_run: false,
        })
        .await
        .unwrap()
    };
    let item = RunItem {
        kind: ItemKind::Service,
        source_id: sid("s-1"),
        action: Action::Create,
        outcome: Outcome::Ok,
        error: None,
    };
    let done = run("a").await;
    s.record_run_item(done, &item).await.unwrap();
    s.finish_run(done, RunOutcome::Ok, &json!({}), chrono::Utc::now())
        .await
        .unwrap();
    let running = run("a").await;
    s.record_run_item(running, &item).await.unwrap();
    let before_cut = Utc::now() + Duration::seconds(1);
    assert_eq!(
        s.prune_runs(Utc::now() - Duration::days(1)).await.unwrap(),
        0
    );
    assert_eq!(s.prune_runs(before_cut).await.unwrap(), 1);
    let left: Vec<i64> = s
        .last_runs("a", 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, vec![running]);
    assert!(s.run_items(done).await.unwrap().is_empty());
    assert_eq!(s.run_items(running).await.unwrap(), vec![item]);
}
