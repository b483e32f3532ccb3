#!/usr/bin/env python3
"""Rule coverage against the shared labeled samples (a development aid, not a test:
a fresh clone has no ../shared).

usage: corpus-coverage.py [--bin FERRET] [--corpus FILE] [--providers REGEX]
                          [--rules FILE ...] [--only-rules] [--confidence LEVEL]
                          [--show-misses] [--show-fps]

Each sample is written to its own file and all are scanned in one run. Prints recall on
positive (tp) samples, the share of negative (fp) samples flagged, and per-provider
misses. With --only-rules, the built-in rules are left out (--no-builtin-rules);
--confidence is passed on to ferret (its default, medium, leaves out identifiers and
example-looking values).
"""
import argparse, collections, json, os, re, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=os.path.join(here, "..", "target", "release", "ferret"))
ap.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "corpus", "provider-examples.jsonl"))
ap.add_argument("--providers", default=None, help="regex on provider names to include")
ap.add_argument("--rules", nargs="*", action="extend", default=[])
ap.add_argument("--only-rules", action="store_true")
ap.add_argument("--confidence", choices=["low", "medium", "high"])
ap.add_argument("--show-misses", action="store_true")
ap.add_argument("--show-fps", action="store_true")
a = ap.parse_args()

samples = [json.loads(l) for l in open(a.corpus)]
if a.providers:
    pr = re.compile(a.providers, re.I)
    samples = [s for s in samples if pr.search(s["provider"])]
with tempfile.TemporaryDirectory() as d:
    for i, s in enumerate(samples):
        with open(os.path.join(d, f"{i}.txt"), "w") as f:
            f.write(s["sample"])
    cmd = [a.bin, "scan", d, "--format", "json", "--quiet", "--no-ignore"]
    for r in a.rules:
        cmd += ["--rules", r]
    if a.only_rules:
        cmd.append("--no-builtin-rules")
    if a.confidence:
        cmd += ["--confidence", a.confidence]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode == 2:
        sys.exit(f"ferret failed: {p.stderr}")
    doc = json.loads(p.stdout)
hits = collections.defaultdict(list)
for f in doc["findings"]:
    hits[int(os.path.basename(f["path"]).split(".")[0])].append(f["rule_id"])
tp = [i for i, s in enumerate(samples) if s["label"] == "tp"]
fp = [i for i, s in enumerate(samples) if s["label"] == "fp"]
found = [i for i in tp if hits.get(i)]
flagged = [i for i in fp if hits.get(i)]
print(f"positives found: {len(found)}/{len(tp)} = {100 * len(found) / max(1, len(tp)):.1f}%")
print(f"negatives flagged: {len(flagged)}/{len(fp)} = {100 * len(flagged) / max(1, len(fp)):.1f}%")
if a.show_misses:
    by = collections.defaultdict(list)
    for i in tp:
        if not hits.get(i):
            by[samples[i]["provider"]].append(samples[i]["sample"])
    for prov in sorted(by):
        print(f"MISS {prov}: {len(by[prov])}")
        for s in by[prov]:
            print("    " + json.dumps(s)[:300])
if a.show_fps:
    for i in flagged:
        print(f"FP {samples[i]['provider']}: {hits[i]} {json.dumps(samples[i]['sample'])[:300]}")
