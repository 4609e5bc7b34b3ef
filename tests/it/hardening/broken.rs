//! One broken document in the source costs that document, not the organisation's run.

use crate::support::spawn_app;
use ptv_sync::model::{Action, Outcome};
use ptv_sync::synth::{Shape, churn, generate};

// issue 16 item 14
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_broken_document_costs_that_document_not_the_organisation() {
    let mut docs = generate(Shape::new(40, 1614));
    let app = spawn_app(&docs).await;
    let first = app.sync().await;
    assert_eq!(first.count(Action::Create, Outcome::Failed), 0);

    churn(&mut docs, 0.3, 1614, 1);
    app.write_source(&docs);
    let source = app.dir.path().join("source");
    // A forbidden character in an id, and a file that does not parse at all.
    std::fs::write(
        source.join("bad-id.yaml"),
        "kind: service\nid: \"bad id!\"\n",
    )
    .unwrap();
    std::fs::write(source.join("broken.yaml"), "kind: service\nid: [\n").unwrap();

    let report = app.sync().await;
    assert!(
        report.count(Action::Update, Outcome::Ok) > 0,
        "updates go on"
    );
    assert!(
        report.count(Action::Create, Outcome::Ok) > 0,
        "creates go on"
    );
    assert_eq!(
        report.count(Action::Archive, Outcome::Ok),
        0,
        "what the broken file held may be among the missing: no archive"
    );
    let guard = report
        .guard
        .clone()
        .expect("the skipped archives are reported");
    assert!(guard.contains("broken.yaml"), "{guard}");

    // Fixed, the next run archives what really left the source.
    std::fs::remove_file(source.join("bad-id.yaml")).unwrap();
    std::fs::remove_file(source.join("broken.yaml")).unwrap();
    let report = app.sync().await;
    assert!(report.guard.is_none(), "{:?}", report.guard);
    assert!(report.count(Action::Archive, Outcome::Ok) > 0);
}
