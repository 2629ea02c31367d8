//! CTC decoding of the recogniser's output over the dictionary from the model's metadata.

/// The character set of a recognition model, index 0 being the CTC blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dictionary {
    pub(crate) symbols: Vec<String>,
}

impl Dictionary {
    /// Builds the dictionary from the model's `character` metadata value
    /// (one symbol per line): the blank is prepended and a space appended,
    /// because the model's class count includes both but the metadata does not.
    pub fn from_metadata(character: &str) -> Self {
        let mut symbols = Vec::with_capacity(character.lines().count() + 2);
        symbols.push(String::new());
        symbols.extend(
            character
                .lines()
                .map(|l| l.trim_end_matches('\r').to_string()),
        );
        symbols.push(" ".to_string());
        Self { symbols }
    }

    /// Number of classes, blank and space included; must equal the model's
    /// output width.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// Always false: the blank is always present.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }
}

/// Why an output could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The model's class count does not match the dictionary (wrong model or
    /// wrong metadata).
    #[error("recognition output has {got} classes but the dictionary has {want}")]
    ClassMismatch {
        /// Classes in the model output.
        got: usize,
        /// Classes in the dictionary.
        want: usize,
    },
}

/// Text decoded from one line, with the mean probability of its kept symbols.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The recognised text.
    pub text: String,
    /// Mean probability of the emitted symbols (0 when nothing was emitted).
    pub score: f32,
    /// For each emitted symbol, in order: the time step it was read at (a column band of the
    /// input, `input width / steps` wide), to place words along the line.
    pub steps: Vec<u32>,
}

/// CTC greedy decoding of one line's probabilities, laid out as `steps` rows
/// of `classes` values: take the arg-max per step, drop repeats and blanks.
pub fn ctc_greedy(
    probs: &[f32],
    classes: usize,
    dict: &Dictionary,
) -> Result<Decoded, DecodeError> {
    if classes != dict.len() || classes == 0 {
        return Err(DecodeError::ClassMismatch {
            got: classes,
            want: dict.len(),
        });
    }
    let mut text = String::new();
    let mut sum = 0.0f32;
    let mut kept = 0usize;
    let mut prev = 0usize;
    let mut steps = Vec::new();
    for (t, row) in probs.chunks_exact(classes).enumerate() {
        let (idx, p) = step_argmax(row);
        if idx != 0 && idx != prev {
            text.push_str(&dict.symbols[idx]);
            // One step per emitted symbol, even for a multi-character symbol.
            steps.extend(std::iter::repeat_n(
                t as u32,
                dict.symbols[idx].chars().count(),
            ));
            sum += p;
            kept += 1;
        }
        prev = idx;
    }
    let score = if kept == 0 { 0.0 } else { sum / kept as f32 };
    Ok(Decoded { text, score, steps })
}

/// A probability above this is a step's arg-max: the other classes share less than the rest.
const SURE: f32 = 0.5;

/// The arg-max of one step's probabilities (the first of equals). Most steps are the blank
/// (class 0) or a symbol read with a probability above one half, which no other class can
/// beat, so the scan stops there: the full scan read every class (18,710 on the PP-OCR models,
/// out of cache for every step), about a tenth of recognition's time on a receipt.
fn step_argmax(row: &[f32]) -> (usize, f32) {
    if let Some(i) = row.iter().position(|&v| v > SURE) {
        return (i, row[i]);
    }
    row.iter().copied().enumerate().fold(
        (0, f32::MIN),
        |best, (i, v)| if v > best.1 { (i, v) } else { best },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(seq: &[usize], classes: usize) -> Vec<f32> {
        let mut v = vec![0.0; seq.len() * classes];
        for (t, &c) in seq.iter().enumerate() {
            v[t * classes + c] = 0.9;
        }
        v
    }

    #[test]
    fn dictionary_adds_blank_and_space() {
        let d = Dictionary::from_metadata("a\nb\r\nc");
        assert_eq!(d.len(), 5);
        assert_eq!(d.symbols[0], "");
        assert_eq!(d.symbols[2], "b");
        assert_eq!(d.symbols[4], " ");
    }

    #[test]
    fn greedy_collapses_repeats_and_blanks() {
        let d = Dictionary::from_metadata("a\nb\nl");
        // a a _ b _ b l l (space) l  ->  "abbl l"
        let seq = [1, 1, 0, 2, 0, 2, 3, 3, 4, 3];
        let out = ctc_greedy(&one_hot(&seq, d.len()), d.len(), &d).unwrap();
        assert_eq!(out.text, "abbl l");
        assert_eq!(out.steps, vec![0, 3, 5, 6, 8, 9]);
        assert!((out.score - 0.9).abs() < 1e-6);
    }

    #[test]
    fn all_blank_is_empty_with_zero_score() {
        let d = Dictionary::from_metadata("a");
        let out = ctc_greedy(&one_hot(&[0, 0, 0], d.len()), d.len(), &d).unwrap();
        assert_eq!(
            out,
            Decoded {
                text: String::new(),
                score: 0.0,
                steps: Vec::new(),
            }
        );
    }

    #[test]
    fn step_argmax_matches_a_full_scan_on_probabilities() {
        let full = |row: &[f32]| {
            let mut best = (0, f32::MIN);
            for (i, &v) in row.iter().enumerate() {
                if v > best.1 {
                    best = (i, v);
                }
            }
            best
        };
        // No class above one half: the largest, the first of equals.
        assert_eq!(step_argmax(&[0.3, 0.35, 0.35]), (1, 0.35));
        assert_eq!(step_argmax(&[0.2, 0.1, 0.45, 0.25]), (2, 0.45));
        // Softmax rows of pseudo-random logits, sharp and flat, against the full scan.
        let mut x = 0x9e37_79b9u32;
        for sharpness in [0.5f32, 2.0, 8.0, 30.0] {
            for _ in 0..200 {
                let logits: Vec<f32> = (0..97)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        sharpness * (x % 1000) as f32 / 1000.0
                    })
                    .collect();
                let top = logits.iter().copied().fold(f32::MIN, f32::max);
                let exps: Vec<f32> = logits.iter().map(|l| (l - top).exp()).collect();
                let sum: f32 = exps.iter().sum();
                let probs: Vec<f32> = exps.iter().map(|e| e / sum).collect();
                assert_eq!(step_argmax(&probs), full(&probs), "{probs:?}");
            }
        }
    }

    #[test]
    fn class_mismatch_is_an_error() {
        let d = Dictionary::from_metadata("a\nb");
        let err = ctc_greedy(&[0.0; 10], 5, &d).unwrap_err();
        assert_eq!(err, DecodeError::ClassMismatch { got: 5, want: 4 });
    }
}
