//! Training-time data augmentation: random translations (zero-padded
//! random crops, as in the CIFAR-10 training of He et al. 2016 and of the
//! NAS papers) and random horizontal flips. Drawn from the training's own
//! seeded stream, so a seed gives the same augmented batches on any
//! machine and thread count. Evaluation never augments.

use serde::{Deserialize, Serialize};

use evonet_core::SeededRng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augment {
    /// Shift each training image by up to this many pixels in x and y
    /// (uniform, independently), filling with zeros. 0: no shift.
    #[serde(default)]
    pub shift: usize,
    /// Mirror each training image left-right with probability 1/2
    /// (natural images; not for digits).
    #[serde(default)]
    pub flip: bool,
}

impl Augment {
    pub fn is_none(&self) -> bool {
        self.shift == 0 && !self.flip
    }

    /// Appends `image` (C × H × W) to `out`, shifted and flipped as drawn
    /// from `rng`. Without augmentation it is a plain copy and draws
    /// nothing.
    pub fn push(
        &self,
        image: &[f32],
        [c, h, w]: [usize; 3],
        rng: &mut SeededRng,
        out: &mut Vec<f32>,
    ) {
        if self.is_none() {
            out.extend_from_slice(image);
            return;
        }
        let s = self.shift as i64;
        let (dy, dx) = if s > 0 {
            let span = 2 * s as u64 + 1;
            (rng.below(span) as i64 - s, rng.below(span) as i64 - s)
        } else {
            (0, 0)
        };
        let flip = self.flip && rng.below(2) == 1;
        let (h, w) = (h as i64, w as i64);
        for ch in 0..c {
            let plane = &image[ch * (h * w) as usize..][..(h * w) as usize];
            for y in 0..h {
                let sy = y + dy;
                for x in 0..w {
                    let xx = if flip { w - 1 - x } else { x };
                    let sx = xx + dx;
                    let v = if (0..h).contains(&sy) && (0..w).contains(&sx) {
                        plane[(sy * w + sx) as usize]
                    } else {
                        0.0
                    };
                    out.push(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp() -> Vec<f32> {
        (0..2 * 3 * 4).map(|v| v as f32 + 1.0).collect()
    }

    #[test]
    fn none_copies_and_draws_nothing() {
        let mut rng = SeededRng::new(1);
        let mut out = Vec::new();
        Augment::default().push(&ramp(), [2, 3, 4], &mut rng, &mut out);
        assert_eq!(out, ramp());
        assert_eq!(rng.below(1 << 30), SeededRng::new(1).below(1 << 30));
    }

    #[test]
    fn shifts_stay_in_range_keep_the_pixels_and_vary() {
        let aug = Augment {
            shift: 1,
            flip: false,
        };
        let img = ramp();
        let mut rng = SeededRng::new(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let mut out = Vec::new();
            aug.push(&img, [2, 3, 4], &mut rng, &mut out);
            assert_eq!(out.len(), img.len());
            // Find the shift: the output pixel (y, x) is input (y+dy, x+dx).
            let found: Vec<(i64, i64)> = (-1..=1)
                .flat_map(|dy| (-1..=1).map(move |dx| (dy, dx)))
                .filter(|&(dy, dx)| {
                    (0..2).all(|c| {
                        (0..3).all(|y| {
                            (0..4).all(|x| {
                                let (sy, sx) = (y + dy, x + dx);
                                let want = if (0..3).contains(&sy) && (0..4).contains(&sx) {
                                    img[(c * 12 + sy * 4 + sx) as usize]
                                } else {
                                    0.0
                                };
                                out[(c * 12 + y * 4 + x) as usize] == want
                            })
                        })
                    })
                })
                .collect();
            assert_eq!(found.len(), 1, "{out:?}");
            seen.insert(found[0]);
        }
        assert_eq!(seen.len(), 9, "every shift in [-1, 1]² is drawn");
    }

    #[test]
    fn flips_mirror_rows_about_half_the_time() {
        let aug = Augment {
            shift: 0,
            flip: true,
        };
        let img = ramp();
        let mirrored: Vec<f32> = img
            .chunks(4)
            .flat_map(|row| row.iter().rev().copied().collect::<Vec<_>>())
            .collect();
        let mut rng = SeededRng::new(3);
        let mut flips = 0;
        for _ in 0..400 {
            let mut out = Vec::new();
            aug.push(&img, [2, 3, 4], &mut rng, &mut out);
            if out == mirrored {
                flips += 1;
            } else {
                assert_eq!(out, img);
            }
        }
        assert!((150..250).contains(&flips), "{flips} flips of 400");
    }

    #[test]
    fn the_same_seed_gives_the_same_images() {
        let aug = Augment {
            shift: 2,
            flip: true,
        };
        let run = |seed| {
            let mut rng = SeededRng::new(seed);
            let mut out = Vec::new();
            for _ in 0..5 {
                aug.push(&ramp(), [2, 3, 4], &mut rng, &mut out);
            }
            out
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }
}
