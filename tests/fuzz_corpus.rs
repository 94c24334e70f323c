//! The fuzz targets' promises (src/fuzzing.rs) on their seed corpus
//! (fuzz/corpus/TARGET), on every input a fuzzing run found
//! (fuzz/regressions/TARGET), and on a bounded, seeded run of mutations of
//! the seeds, so that `cargo test` on stable Rust covers what the fuzzers
//! covered.

use std::path::{Path, PathBuf};

use ami::fuzzing::TARGETS;

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// xorshift64*: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Tokens the parsers care about, spliced in by the mutator.
const TOKENS: [&[u8]; 10] = [
    b"\r\n", b"\r\n\r\n", b"\n", b": ", b"--END COMMAND--", b"Response: Follows\r\n", b"EventList: start\r\n",
    b"Content-Length: 99999999\r\n", b"\"", b"\0",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 => {
                let len = rng.below(32).min(v.len() - at.min(v.len()));
                let copy = v[at..at + len].to_vec();
                v.splice(at..at, copy);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..at, token.iter().copied());
            }
            _ => v.truncate(at),
        }
    }
    v
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (name, _) in TARGETS {
        assert!(!inputs(&fuzz_dir().join("corpus").join(name)).is_empty(), "no seeds for {name}");
        assert!(fuzz_dir().join("fuzz_targets").join(format!("{name}.rs")).is_file(), "no fuzz target {name}");
    }
}

#[test]
fn seeds_and_found_inputs_keep_every_promise() {
    for (name, check) in TARGETS {
        for dir in ["corpus", "regressions"] {
            for (file, data) in inputs(&fuzz_dir().join(dir).join(name)) {
                let result = std::panic::catch_unwind(|| check(&data));
                assert!(result.is_ok(), "{name}: fuzz/{dir}/{name}/{file} breaks a promise");
            }
        }
    }
}

#[test]
fn mutated_seeds_keep_every_promise() {
    const PER_SEED: usize = 300;
    for (name, check) in TARGETS {
        let seeds = inputs(&fuzz_dir().join("corpus").join(name));
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
        for (file, seed) in &seeds {
            for i in 0..PER_SEED {
                let input = mutate(&mut rng, seed);
                let result = std::panic::catch_unwind(|| check(&input));
                assert!(result.is_ok(), "{name}: mutation {i} of {file} breaks a promise; input {:?}", String::from_utf8_lossy(&input));
            }
        }
    }
}
