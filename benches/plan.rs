//! The planner alone (no I/O): validate + plan for generated snapshots against a state
//! that records everything as pushed. `cargo bench`; the end-to-end figures with disk,
//! state store and peak memory come from `ptv-sync bench`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ptv_sync::plan::{PlanOptions, plan};
use ptv_sync::store::PlanRow;
use ptv_sync::synth::{Shape, generate};
use ptv_sync::validate::{ValidateOptions, validate};

fn planner(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate+plan");
    group.sample_size(10);
    for items in [1_000, 10_000] {
        let docs = generate(Shape::new(items, 1));
        let snapshot = docs.snapshot();
        let v = validate(&snapshot, &ValidateOptions::default());
        let first = plan(&v, &[], &PlanOptions::default());
        let prior: Vec<PlanRow> = first
            .steps
            .iter()
            .map(|s| PlanRow::pushed(s.kind, s.id.clone(), s.fingerprint, None))
            .collect();
        group.bench_with_input(BenchmarkId::from_parameter(items), &items, |b, _| {
            b.iter(|| {
                let v = validate(&snapshot, &ValidateOptions::default());
                let p = plan(&v, &prior, &PlanOptions::default());
                assert!(!p.has_changes());
            });
        });
    }
    group.finish();
}

criterion_group!(benches, planner);
criterion_main!(benches);
