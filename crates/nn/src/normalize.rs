//! Observation normalisation of OpenAI ES: `clip((o − mean) / std, −5, 5)`.

pub const CLIP: f32 = 5.0;

/// Normalises `obs` in place with fixed statistics.
#[inline]
pub fn normalize_in_place(obs: &mut [f32], mean: &[f32], std: &[f32]) {
    for ((o, m), s) in obs.iter_mut().zip(mean).zip(std) {
        *o = ((*o - m) / s).clamp(-CLIP, CLIP);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clips() {
        let mut o = [10.0, 1.0];
        super::normalize_in_place(&mut o, &[0.0, 1.0], &[1.0, 2.0]);
        assert_eq!(o, [5.0, 0.0]);
    }
}
