fn main() -> std::process::ExitCode {
    ptv_sync::cli::main()
}
