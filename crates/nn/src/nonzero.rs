//! The indices of a slice's non-zero values, for the sparse paths over
//! frames (`conv.rs`, `mlp/sparse.rs`).

/// Writes the indices of the non-zero values of `x`, in order, to the front
/// of `nz` (which holds at least `x.len()`), and returns how many there
/// are. No branch per value: which values of a frame are zero is not
/// predictable, and a mispredicted branch costs more than the store.
#[inline(always)]
pub(crate) fn nonzeros(x: &[f32], nz: &mut [u32]) -> usize {
    let mut n = 0;
    for (i, &v) in x.iter().enumerate() {
        nz[n] = i as u32;
        n += usize::from(v != 0.0);
    }
    n
}
