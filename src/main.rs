// A plan over 100,000 items makes millions of small allocations; mimalloc's size classes
// and thread caches make them about twice as fast and pack them tighter than glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ptv_sync::cli::main()
}
