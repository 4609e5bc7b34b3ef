//! Scheduling: which steps run in which wave, and inside a wave which step waits for
//! which; each step starts as soon as what it depends on is written, at most
//! `concurrency` at a time.

use super::commit::Ctx;
use super::{Engine, ItemResult};
use crate::model::{Action, ItemKind, SourceId};
use crate::plan::{Desired, Step};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};

impl Engine {
    /// Runs one wave's steps, at most `concurrency` at a time, each as soon as what it
    /// waits for is written or has failed ([`wave_dependencies`]): waves by kind and
    /// depth left slots idle while each wave's slowest write finished.
    pub(super) async fn run_wave(
        &self,
        ctx: &Ctx,
        steps: &[&Step],
        concurrency: usize,
    ) -> Vec<ItemResult> {
        use futures::stream::FuturesUnordered;
        let WaveDependencies {
            mut waiting,
            dependents,
        } = wave_dependencies(steps);
        // Organisations first whenever one is ready: the rest of the run waits on them.
        let rank = |i: usize| (u8::from(steps[i].kind != ItemKind::Organization), i);
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<(u8, usize)>> = (0..steps
            .len())
            .filter(|&i| waiting[i] == 0)
            .map(|i| std::cmp::Reverse(rank(i)))
            .collect();
        let mut running = FuturesUnordered::new();
        let mut results = Vec::with_capacity(steps.len());
        loop {
            while running.len() < concurrency.max(1)
                && let Some(std::cmp::Reverse((_, i))) = ready.pop()
            {
                // Built when started: at most `concurrency` futures exist at a time.
                running.push(self.step_at(ctx, steps[i], i));
            }
            let Some((i, result)) = running.next().await else {
                break;
            };
            for &d in &dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    ready.push(std::cmp::Reverse(rank(d)));
                }
            }
            // Reported as each finishes: the first wave now holds nearly every write.
            if let Some(p) = &self.progress {
                p.done(&result);
            }
            metrics::counter!("ptv_sync_items_total", "org" => self.org.name.to_string(), "kind" => result.kind.as_str(), "action" => result.action.as_str(), "outcome" => result.outcome.as_str()).increment(1);
            results.push(result);
        }
        results
    }

    async fn step_at(&self, ctx: &Ctx, s: &Step, i: usize) -> (usize, ItemResult) {
        (i, self.step(ctx, s).await)
    }
}

/// Groups steps into waves: every create, update and restore in one (ordered inside by
/// [`wave_dependencies`]), then the archives of services, channels and connection sets,
/// then those of organisations, children first.
pub(super) fn waves(work: &[Step]) -> Vec<Vec<&Step>> {
    let mut by_key: BTreeMap<(u8, i64), Vec<&Step>> = BTreeMap::new();
    for s in work {
        let key = match (s.action, s.kind) {
            (Action::Archive, ItemKind::Service | ItemKind::Channel | ItemKind::Connections) => {
                (5, 0)
            }
            (Action::Archive, ItemKind::Organization) => {
                (6, -i64::try_from(s.depth).unwrap_or(i64::MAX))
            }
            // Creates, updates and restores: one wave, ordered inside by what each step
            // waits for (`wave_dependencies`).
            _ => (0, 0),
        };
        by_key.entry(key).or_default().push(s);
    }
    by_key.into_values().collect()
}

/// Which steps of a wave wait for which, where both are written in it: an organisation for
/// its parent, a service or channel for its organisation, a connection set for its service
/// and the channels it names.
struct WaveDependencies {
    /// Per step, how many steps it waits for.
    waiting: Vec<usize>,
    /// Per step, the steps waiting for it.
    dependents: Vec<Vec<usize>>,
}

fn wave_dependencies(steps: &[&Step]) -> WaveDependencies {
    fn org(o: Option<&SourceId>) -> Option<(ItemKind, &str)> {
        o.map(|o| (ItemKind::Organization, o.as_str()))
    }
    let writes = |s: &&Step| s.action != Action::Archive;
    let index: HashMap<(ItemKind, &str), usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| writes(s))
        .map(|(i, s)| ((s.kind, s.id.as_str()), i))
        .collect();
    let mut deps = WaveDependencies {
        waiting: vec![0; steps.len()],
        dependents: vec![Vec::new(); steps.len()],
    };
    for (i, s) in steps.iter().enumerate().filter(|(_, s)| writes(s)) {
        let id = s.id.as_str();
        let on: Vec<(ItemKind, &str)> = match s.desired.as_deref() {
            Some(Desired::Organization(o)) => org(o.parent.as_ref()).into_iter().collect(),
            Some(Desired::Service(x)) => org(x.organization.as_ref()).into_iter().collect(),
            Some(Desired::Channel(x, _)) => org(x.organization.as_ref()).into_iter().collect(),
            Some(Desired::Connections { set, .. }) => std::iter::once((ItemKind::Service, id))
                .chain(set.iter().map(|c| (ItemKind::Channel, c.channel.as_str())))
                .collect(),
            None => Vec::new(),
        };
        let mut on: Vec<usize> = on.iter().filter_map(|k| index.get(k).copied()).collect();
        on.sort_unstable();
        on.dedup();
        deps.waiting[i] = on.len();
        for d in on {
            deps.dependents[d].push(i);
        }
    }
    deps
}

// Its sample plan comes from the data generator.
#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::validate::Validated;

    /// What step `on` is to step `s`, if `s` must wait for it.
    fn waits_for(v: &Validated, s: &Step, on: &Step) -> bool {
        let id = s.id.as_str();
        let owner = match s.kind {
            ItemKind::Organization => v.organizations[id].parent.as_ref(),
            ItemKind::Service => v.services[id].organization.as_ref(),
            ItemKind::Channel => v.channels[id].organization.as_ref(),
            ItemKind::Connections => {
                return (on.kind == ItemKind::Service && on.id == s.id)
                    || (on.kind == ItemKind::Channel
                        && v.connections[id].iter().any(|c| c.channel == on.id));
            }
        };
        on.kind == ItemKind::Organization && owner.is_some_and(|o| *o == on.id)
    }

    #[test]
    fn each_write_waits_for_exactly_what_it_depends_on() {
        let snapshot = crate::synth::generate(crate::synth::Shape::new(200, 3)).snapshot();
        let v =
            crate::validate::validate_owned(snapshot, &crate::validate::ValidateOptions::default());
        let plan = crate::plan::plan(&v, &[], &crate::plan::PlanOptions::default());
        let steps: Vec<&Step> = plan.steps.iter().collect();
        let deps = wave_dependencies(&steps);
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in steps.iter().enumerate() {
            let expected: Vec<usize> = (0..steps.len())
                .filter(|&d| waits_for(&v, s, steps[d]))
                .collect();
            let actual: Vec<usize> = (0..steps.len())
                .filter(|&d| deps.dependents[d].contains(&i))
                .collect();
            assert_eq!(actual, expected, "{} {}", s.kind, s.id);
            assert_eq!(deps.waiting[i], expected.len());
            seen.extend(expected.iter().map(|&d| (steps[d].kind, s.kind)));
        }
        // Every kind of dependency occurs, so the check above is not vacuous.
        for pair in [
            (ItemKind::Organization, ItemKind::Organization),
            (ItemKind::Organization, ItemKind::Service),
            (ItemKind::Organization, ItemKind::Channel),
            (ItemKind::Service, ItemKind::Connections),
            (ItemKind::Channel, ItemKind::Connections),
        ] {
            assert!(seen.contains(&pair), "no {pair:?} dependency in the sample");
        }
    }
}
