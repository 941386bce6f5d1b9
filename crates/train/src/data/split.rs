//! Deterministic train / validation / test splits: a shuffle drawn from
//! (seed, purpose DataSplit), stratified by class so that every part keeps
//! the class proportions.

use evonet_core::{Purpose, SeededRng};

use super::Dataset;

/// Fractions of the data for validation and test (the rest trains).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    pub validation: f64,
    pub test: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    pub train: Dataset,
    pub validation: Dataset,
    pub test: Dataset,
}

impl Split {
    /// Splits `data`; the same seed gives the same parts. Within each
    /// class the images are shuffled, then the first `test` fraction goes
    /// to test, the next `validation` fraction to validation.
    pub fn apply(&self, data: &Dataset, seed: u64) -> Splits {
        let mut rng = SeededRng::for_stream(seed, 0, 0, Purpose::DataSplit);
        let (mut tr, mut va, mut te) = (Vec::new(), Vec::new(), Vec::new());
        for class in 0..data.classes {
            let mut idx: Vec<usize> = (0..data.len())
                .filter(|&i| data.labels[i] as usize == class)
                .collect();
            // Fisher–Yates.
            for i in (1..idx.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                idx.swap(i, j);
            }
            let n = idx.len() as f64;
            let n_test = (n * self.test).round() as usize;
            let n_val = (n * self.validation).round() as usize;
            te.extend_from_slice(&idx[..n_test]);
            va.extend_from_slice(&idx[n_test..n_test + n_val]);
            tr.extend_from_slice(&idx[n_test + n_val..]);
        }
        // Keep each part in file order: batches are shuffled when training.
        for v in [&mut tr, &mut va, &mut te] {
            v.sort_unstable();
        }
        Splits {
            train: data.subset(&tr),
            validation: data.subset(&va),
            test: data.subset(&te),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n: usize) -> Dataset {
        Dataset {
            images: (0..n).map(|i| i as f32).collect(),
            labels: (0..n).map(|i| (i % 3) as u8).collect(),
            shape: [1, 1, 1],
            classes: 3,
        }
    }

    #[test]
    fn splits_are_disjoint_stratified_and_seeded() {
        let d = toy(300);
        let s = Split {
            validation: 0.2,
            test: 0.1,
        };
        let a = s.apply(&d, 1);
        assert_eq!(
            (a.train.len(), a.validation.len(), a.test.len()),
            (210, 60, 30)
        );
        assert_eq!(a.test.class_counts(), vec![10, 10, 10]);
        let mut all: Vec<f32> = [&a.train, &a.validation, &a.test]
            .iter()
            .flat_map(|p| p.images.clone())
            .collect();
        all.sort_by(f32::total_cmp);
        assert_eq!(all, d.images);
        assert_eq!(s.apply(&d, 1), a);
        assert_ne!(s.apply(&d, 2).test, a.test);
    }
}
