//! Ensembles from the final population: greedy forward selection with
//! replacement (Caruana, Niculescu-Mizil, Crew & Ksikes, "Ensemble
//! selection from libraries of models", ICML 2004).
//!
//! Each retrained architecture gives class probabilities on the validation
//! split from a copy trained without it ([`NasProblem::holdout_probabilities`]).
//! Starting from the empty ensemble, each round adds the model (any one,
//! again if it helps most) whose addition makes the averaged probabilities
//! most accurate on validation (ties: the lower validation log loss, then
//! the earlier model); after `rounds` rounds the best ensemble seen on the
//! way is kept (Caruana's choice of the ensemble's size). A member's weight
//! is how often it was chosen, over the ensemble's size. The ensemble's
//! test figure averages the test probabilities of the networks trained on
//! train + validation with those weights.
//!
//! [`NasProblem::holdout_probabilities`]: crate::NasProblem::holdout_probabilities

use std::path::Path;

use serde::Serialize;

use evonet_train::{logits, weights, Net};

use crate::final_stage::RetrainResult;
use crate::NasProblem;

/// Turns each row of `logits` (`classes` wide) into probabilities.
pub fn softmax_rows(logits: &mut [f32], classes: usize) {
    for row in logits.chunks_mut(classes.max(1)) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        for v in row.iter_mut() {
            *v /= sum;
        }
    }
}

/// One member of a chosen ensemble.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    /// Index of the model among those selected from.
    pub index: usize,
    /// Times chosen.
    pub count: usize,
    /// `count` over the ensemble's size.
    pub weight: f64,
}

/// An ensemble chosen on validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    /// Models with a weight, by index.
    pub members: Vec<Member>,
    /// The averaged probabilities' accuracy on validation.
    pub val_accuracy: f64,
}

/// Accuracy and log loss of probabilities `sum / n` against `labels`.
fn score(sum: &[f64], n: f64, labels: &[u8], classes: usize) -> (f64, f64) {
    let (mut right, mut loss) = (0usize, 0.0);
    for (row, &label) in sum.chunks(classes).zip(labels) {
        let best = row
            .iter()
            .enumerate()
            .fold(0, |b, (i, v)| if *v > row[b] { i } else { b });
        right += usize::from(best == label as usize);
        loss -= (row[label as usize] / n).max(1e-12).ln();
    }
    let count = labels.len().max(1) as f64;
    (right as f64 / count, loss / count)
}

/// Caruana's greedy forward selection with replacement over `probs` (one
/// `[images, classes]` row-major block per model) against `labels`.
/// `None` without models.
pub fn select<P: AsRef<[f32]>>(
    probs: &[P],
    labels: &[u8],
    classes: usize,
    rounds: usize,
) -> Option<Selection> {
    if probs.is_empty() || classes == 0 {
        return None;
    }
    let mut sum = vec![0f64; labels.len() * classes];
    // The ensemble with one more model, reused across trials.
    let mut trial = sum.clone();
    let mut counts = vec![0usize; probs.len()];
    let mut best: Option<(f64, f64, Vec<usize>)> = None;
    for round in 1..=rounds.max(1) {
        let n = round as f64;
        let mut chosen: Option<(usize, f64, f64)> = None;
        for (m, p) in probs.iter().enumerate() {
            for ((t, s), v) in trial.iter_mut().zip(&sum).zip(p.as_ref()) {
                *t = s + *v as f64;
            }
            let (acc, loss) = score(&trial, n, labels, classes);
            let better = chosen.is_none_or(|(_, a, l)| acc > a || (acc == a && loss < l));
            if better {
                chosen = Some((m, acc, loss));
            }
        }
        let (m, acc, loss) = chosen?;
        for (s, v) in sum.iter_mut().zip(probs[m].as_ref()) {
            *s += *v as f64;
        }
        counts[m] += 1;
        let improves = best
            .as_ref()
            .is_none_or(|(a, l, _)| acc > *a || (acc == *a && loss < *l));
        if improves {
            best = Some((acc, loss, counts.clone()));
        }
    }
    let (val_accuracy, _, counts) = best?;
    let size: usize = counts.iter().sum();
    let members = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(index, &count)| Member {
            index,
            count,
            weight: count as f64 / size as f64,
        })
        .collect();
    Some(Selection {
        members,
        val_accuracy,
    })
}

/// Accuracy of the weighted average of `probs` (one block per member of
/// `selection`, by index) against `labels`.
pub fn accuracy<P: AsRef<[f32]>>(
    selection: &Selection,
    probs: &[P],
    labels: &[u8],
    classes: usize,
) -> f64 {
    let mut sum = vec![0f64; labels.len() * classes];
    for m in &selection.members {
        for (s, v) in sum.iter_mut().zip(probs[m.index].as_ref()) {
            *s += m.weight * *v as f64;
        }
    }
    score(&sum, 1.0, labels, classes).0
}

/// A chosen ensemble of retrained architectures, as `summary.json` lists
/// it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnsembleMember {
    pub candidate: u64,
    /// Times chosen, and that over the ensemble's size.
    pub count: usize,
    pub weight: f64,
}

/// The ensemble of the retrained architectures of a final stage.
#[derive(Debug, Clone)]
pub struct Ensemble {
    pub members: Vec<EnsembleMember>,
    /// Each member's network (trained on train + validation), in the
    /// order of `members`.
    pub nets: Vec<Net>,
    /// The holdout copies' averaged accuracy on validation (what chose it).
    pub val_accuracy: f64,
    /// The networks trained on train + validation, averaged, on test.
    pub test_accuracy: f64,
}

/// Caruana's selection over the retrainings that succeeded (`results`, in
/// the order of `ids`), then the test accuracy of the weighted average of
/// their networks. `None` when fewer than two succeeded or a network's
/// weights do not load.
pub fn build(
    problem: &NasProblem,
    ids: &[u64],
    results: &[Result<RetrainResult, String>],
) -> Option<Ensemble> {
    let ok: Vec<(usize, &RetrainResult)> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r.as_ref().ok().filter(|r| !r.holdout.is_empty())?)))
        .collect();
    if ok.len() < 2 {
        return None;
    }
    let (splits, classes) = (problem.splits(), problem.classes());
    let holdout: Vec<&[f32]> = ok.iter().map(|(_, r)| r.holdout.as_slice()).collect();
    let rounds = problem.final_training().ensemble_rounds;
    let chosen = select(&holdout, &splits.validation.labels, classes, rounds)?;
    let mut test = vec![Vec::new(); ok.len()];
    let mut nets = Vec::with_capacity(chosen.members.len());
    for m in &chosen.members {
        let net = weights::parse(&ok[m.index].1.weights, Path::new("retrained")).ok()?;
        let mut p = logits(&net, &splits.test);
        softmax_rows(&mut p, classes);
        test[m.index] = p;
        nets.push(net);
    }
    Some(Ensemble {
        test_accuracy: accuracy(&chosen, &test, &splits.test.labels, classes),
        val_accuracy: chosen.val_accuracy,
        nets,
        members: chosen
            .members
            .iter()
            .map(|m| EnsembleMember {
                candidate: ids[ok[m.index].0],
                count: m.count,
                weight: m.weight,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two images, two classes; each model's probabilities of class 1.
    fn model(p1: &[f32]) -> Vec<f32> {
        p1.iter().flat_map(|p| [1.0 - p, *p]).collect()
    }

    #[test]
    fn softmax_rows_sum_to_one_and_keep_the_order() {
        let mut l = vec![1.0, 2.0, 3.0, 1000.0, 0.0, -1000.0];
        softmax_rows(&mut l, 3);
        for row in l.chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        assert!(l[0] < l[1] && l[1] < l[2] && l[3] > 0.99);
    }

    #[test]
    fn the_best_single_model_is_chosen_first_and_a_useless_one_never() {
        let labels = [1, 0, 1];
        let good = model(&[0.9, 0.2, 0.4]); // 2 of 3 right
        let bad = model(&[0.1, 0.9, 0.1]); // all wrong
        let s = select(&[bad, good], &labels, 2, 5).unwrap();
        assert_eq!(s.members.len(), 1);
        assert_eq!(s.members[0].index, 1);
        assert!((s.val_accuracy - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn models_wrong_on_different_images_make_a_better_ensemble() {
        // Each model is confidently wrong on one image; averaged, every
        // image is right.
        let labels = [1, 1, 1];
        let a = model(&[0.2, 0.9, 0.9]);
        let b = model(&[0.9, 0.2, 0.9]);
        let c = model(&[0.9, 0.9, 0.2]);
        let s = select(&[a.clone(), b.clone(), c.clone()], &labels, 2, 10).unwrap();
        assert_eq!(s.val_accuracy, 1.0);
        assert!(s.members.len() >= 2, "{s:?}");
        let total: f64 = s.members.iter().map(|m| m.weight).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert_eq!(accuracy(&s, &[a, b, c], &labels, 2), 1.0);
    }

    #[test]
    fn nothing_to_select_from_is_none() {
        assert!(select::<Vec<f32>>(&[], &[0], 2, 3).is_none());
    }
}
