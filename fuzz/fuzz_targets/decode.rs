//! The decoders (`src/engine/decode.rs`): candidate spans of base64 and percent-encoded
//! text are found in arbitrary bytes and each is decoded. Spans must lie inside the
//! input, sorted, no longer than the cap; decoding must not panic.

#![no_main]

use ferret::engine::decode::{MAX_SPAN, decode, find_spans};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut spans = Vec::new();
    find_spans(data, &mut spans);
    let mut last = 0;
    for s in &spans {
        assert!(
            s.start < s.end && s.end <= data.len(),
            "{s:?} in {}",
            data.len()
        );
        assert!(s.end - s.start <= MAX_SPAN, "{s:?}");
        assert!(s.start >= last, "spans sorted by start");
        last = s.start;
        if let Some(text) = decode(&data[s.start..s.end], s.encoding) {
            assert!(!text.is_empty());
        }
    }
});
