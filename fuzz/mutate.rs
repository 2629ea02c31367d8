//! A small, deterministic mutation fuzzer on stable Rust, shared by the fuzz tests
//! (`crates/*/tests/fuzz_*.rs` include it with `#[path]`): seeds are mutated by byte flips,
//! interesting values, deletions, duplications, splices and format tokens, for a bounded time.
//! cargo-fuzz needs nightly (or `RUSTC_BOOTSTRAP=1` and a libFuzzer build), which CI does not
//! have; `bench/fuzz.md` says how to run these for longer.
#![allow(dead_code)]

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// xorshift64*: reproducible from its seed, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: [u8; 10] = [0, 1, 0x7f, 0x80, 0xff, b'0', b'9', b'(', b'<', b'\n'];

/// One to four random edits of `data`; `tokens` are spliced in whole (format keywords).
pub fn mutate(rng: &mut Rng, data: &[u8], tokens: &[&[u8]], other: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 1 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                out.drain(a..b);
            }
            3 if len > 1 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(256)).min(len);
                let copy = out[a..b].to_vec();
                let at = rng.below(len);
                out.splice(at..at, copy);
            }
            4 if !tokens.is_empty() => {
                let t = tokens[rng.below(tokens.len())];
                let at = rng.below(len + 1);
                out.splice(at..at, t.iter().copied());
            }
            5 if !other.is_empty() => {
                // Splice: the head of this input, the tail of another.
                let a = rng.below(len + 1);
                let b = rng.below(other.len());
                out.truncate(a);
                out.extend_from_slice(&other[b..]);
            }
            6 if len > 0 => out.truncate(rng.below(len)),
            _ => {
                // A number made extreme: a digit run replaced by a huge or negative one.
                if let Some(i) = out.iter().position(|b| b.is_ascii_digit()) {
                    let i = (i + rng.below(len - i)).min(len - 1);
                    let big: &[u8] =
                        [&b"99999999999"[..], b"-1", b"4294967296", b"0.000001"][rng.below(4)];
                    out.splice(i..i + 1, big.iter().copied());
                }
            }
        }
    }
    out
}

/// The files of a seed directory, sorted.
pub fn seeds(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|it| it.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"));
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// How long each fuzz target runs: `FOLIO_FUZZ_SECS`, else `default`.
pub fn budget(default: Duration) -> Duration {
    std::env::var("FOLIO_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(default, Duration::from_secs_f64)
}

/// Runs `target` on mutations of `seeds` until `budget` is spent. A panic (or an `Err` from
/// `target`, for problems the target detects itself) saves the input under
/// `target/fuzz-crashes/<name>-<n>.bin` and fails with its path: copy it into
/// `fuzz/regressions/<name>/` so that it is replayed by every later run.
pub fn run(
    name: &str,
    seeds: &[Vec<u8>],
    tokens: &[&[u8]],
    budget: Duration,
    mut target: impl FnMut(&[u8]) -> Result<(), String>,
) -> u64 {
    assert!(!seeds.is_empty(), "no seeds for {name}");
    let seed = std::env::var("FOLIO_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_f011u64);
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let mut runs = 0u64;
    // The seeds and the regressions themselves first.
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(name);
    let mut inputs: Vec<Vec<u8>> = seeds.to_vec();
    inputs.extend(self::seeds(&regressions));
    let fixed = inputs.len();
    let mut i = 0usize;
    while i < fixed || started.elapsed() < budget {
        let input = if i < fixed {
            inputs[i].clone()
        } else {
            let a = &inputs[rng.below(inputs.len())];
            let b = &inputs[rng.below(inputs.len())];
            mutate(&mut rng, a, tokens, b)
        };
        i += 1;
        runs += 1;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| target(&input)));
        let problem = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(p) => Some(
                p.downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string()),
            ),
        };
        if let Some(problem) = problem {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-crashes");
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("{name}-{runs}.bin"));
            std::fs::write(&path, &input).unwrap();
            panic!(
                "{name}: input {runs} failed ({problem}); saved to {}",
                path.display()
            );
        }
    }
    runs
}
