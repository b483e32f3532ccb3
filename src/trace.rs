//! Phase timings for profiling, printed on standard error when `FERRET_TRACE` is set.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> &'static Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now)
}

/// True when `FERRET_TRACE` is set.
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        start();
        std::env::var_os("FERRET_TRACE").is_some()
    })
}

/// Prints `what` with the time since start-up when tracing is enabled.
pub fn phase(what: impl FnOnce() -> String) {
    if enabled() {
        eprintln!(
            "ferret: trace: {:>8.2} ms  {}",
            start().elapsed().as_secs_f64() * 1000.0,
            what()
        );
    }
}
