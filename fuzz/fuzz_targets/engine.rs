//! The engine on arbitrary bytes, with every built-in rule and decoding on (the
//! defaults of `ferret scan`), through the same per-thread scanner and stream reader
//! the binary uses: matches become findings with lines, columns and context. Input
//! starting with a UTF-16 byte order mark is transcoded. Nothing may panic; every
//! finding must point inside the input; the streamed scan of plain bytes must agree
//! with the whole-input scan.

#![no_main]

use std::cell::RefCell;
use std::sync::LazyLock;

use ferret::engine::Engine;
use ferret::finding::Finding;
use ferret::rules::RuleSet;
use ferret::scan::{Counters, Scanner};
use ferret::source::chunk::{CHUNK_SIZE, scan_stream, utf16_mark};
use ferret::source::{Chunk, Consumer, SkipReason};
use libfuzzer_sys::fuzz_target;

static ENGINE: LazyLock<Engine> =
    LazyLock::new(|| Engine::new(RuleSet::builtin().expect("built-in rules")).expect("engine"));
static COUNTERS: LazyLock<Counters> = LazyLock::new(Counters::default);

thread_local! {
    static SCANNER: RefCell<Scanner<'static>> =
        RefCell::new(Scanner::new(&ENGINE, &COUNTERS, ferret::suppress::line_is_allowed));
}

/// Collects the findings of streamed chunks.
struct Collect<'a>(&'a mut Scanner<'static>, Vec<Finding>);

impl Consumer for Collect<'_> {
    fn chunk(&mut self, label: &str, chunk: &Chunk<'_>) {
        let out = &mut self.1;
        self.0.chunk_findings(label, chunk, |f| out.extend(f));
    }
    fn skipped(&mut self, _: &str, _: SkipReason) {}
    fn error(&mut self, _: &str, _: String) {}
}

fuzz_target!(|data: &[u8]| {
    SCANNER.with_borrow_mut(|s| {
        let whole = s.findings("fuzz", data);
        let lines = 1 + data.iter().filter(|&&b| b == b'\n').count();
        for f in &whole {
            assert!(
                f.start_byte <= f.end_byte && f.end_byte <= data.len(),
                "{f:?}"
            );
            assert!(
                f.line >= 1 && f.line <= f.end_line && f.end_line <= lines,
                "{f:?}"
            );
            assert!(f.column >= 1 && f.end_column >= 1, "{f:?}");
        }
        let mut c = Collect(s, Vec::new());
        scan_stream(data, "fuzz", CHUNK_SIZE, true, &mut c, &mut Vec::new()).unwrap();
        let streamed = c.1;
        if utf16_mark(data).is_some() {
            for f in &streamed {
                // Offsets into the UTF-16 bytes (a final odd byte counts as a unit).
                assert!(
                    f.start_byte <= f.end_byte && f.end_byte <= data.len() + 1,
                    "{f:?}"
                );
                assert!(f.start_byte >= 2 && f.start_byte.is_multiple_of(2), "{f:?}");
            }
        } else {
            assert_eq!(whole, streamed);
        }
    });
});
