//! Engine throughput with the built-in rules: a keyword-free input (the automaton
//! alone) and a keyword-dense one (windows and regexes), in MB/s; and the cost of
//! turning matches into findings on one long line (a minified bundle's or a source
//! map's), where each finding's line, column and inline allow must not be measured
//! from the line's start.
//!
//! cargo bench --bench engine

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferret::engine::Engine;
use ferret::rules::RuleSet;

fn inputs() -> (Vec<u8>, Vec<u8>) {
    // Code-like text with no keyword of any rule.
    let line = b"    for (int i = 0; i < count; i++) { total += values[i] * weight; }\n";
    let mut free = Vec::with_capacity(4 << 20);
    while free.len() < 4 << 20 {
        free.extend_from_slice(line);
    }
    // Config-like text where every line holds keywords, a tenth of them real tokens.
    let mut dense = Vec::with_capacity(4 << 20);
    let mut i = 0u32;
    while dense.len() < 4 << 20 {
        let l = match i % 10 {
            0 => format!(
                "GITHUB_TOKEN=ghp_{:0>36}\n",
                format!("Zq8vL2mK9xT4rW7nB3pY6h{i:08}")
            ),
            1 => "password = os.environ['DB_PASSWORD']\n".to_string(),
            2 => "api_key: ${API_KEY}\n".to_string(),
            3 => "export AWS_SECRET_ACCESS_KEY=$SECRET\n".to_string(),
            4 => "token = request.headers.get('token')\n".to_string(),
            5 => "url = https://example.com/path?secret=none\n".to_string(),
            6 => "slack_webhook = load('slack')\n".to_string(),
            7 => "stripe_key = settings.STRIPE\n".to_string(),
            8 => "client_secret = get_secret('client')\n".to_string(),
            _ => "# the bearer token is sent in the header\n".to_string(),
        };
        dense.extend_from_slice(l.as_bytes());
        i += 1;
    }
    (free, dense)
}

fn bench(c: &mut Criterion) {
    let engine = Engine::new(RuleSet::builtin().expect("built-in rules")).expect("engine");
    let (free, dense) = inputs();
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    for (name, data) in [("keyword_free", &free), ("keyword_dense", &dense)] {
        g.throughput(Throughput::Bytes(data.len() as u64));
        let mut scratch = engine.new_scratch();
        let mut out = Vec::new();
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                engine.find(data, &mut scratch, &mut out);
                out.len()
            })
        });
    }
    g.finish();

    // The keyword-dense text on one line, as a minifier would leave it.
    let line: Vec<u8> = dense
        .iter()
        .map(|&b| if b == b'\n' { b';' } else { b })
        .collect();
    let mut scratch = engine.new_scratch();
    let mut matches = Vec::new();
    engine.find(&line, &mut scratch, &mut matches);
    let mut g = c.benchmark_group("findings");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(line.len() as u64));
    let mut out = Vec::new();
    g.bench_function("one_long_line", |b| {
        b.iter(|| {
            out.clear();
            ferret::finding::build(
                &engine,
                &line,
                0,
                &matches,
                "bundle.min.js",
                &ferret::suppress::line_is_allowed,
                false,
                &Default::default(),
                &mut out,
            );
            out.len()
        })
    });
    g.finish();
    c.bench_function("startup/load_rules_and_build_dfa", |b| {
        b.iter(|| Engine::new(RuleSet::builtin().expect("rules")).expect("engine"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
