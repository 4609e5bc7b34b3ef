//! CPU-bound work over large slices, split across the machine's cores. A snapshot of
//! 100,000 items is parsed, checked and fingerprinted this way; small ones stay on the
//! calling thread, where starting threads would cost more than it saves.

use std::num::NonZeroUsize;

/// Below this many elements the work runs on the calling thread.
const MIN_PARALLEL: usize = 4096;

/// `f` over consecutive chunks of `items`, one chunk per core, results concatenated in
/// order. A panic in a worker is resumed on the caller.
pub fn map_chunks<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> Vec<R> + Sync,
{
    let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    if workers < 2 || items.len() < MIN_PARALLEL {
        return f(items);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(workers))
            .map(|chunk| scope.spawn(move || f(chunk)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_input_order() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled = super::map_chunks(&items, |c| c.iter().map(|x| x * 2).collect());
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(super::map_chunks(&[] as &[u32], <[u32]>::to_vec).is_empty());
    }
}
