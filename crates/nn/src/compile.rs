//! Compiling a [`GraphSpec`] into a [`crate::GraphNet`]'s evaluation order:
//! the computed nodes in a topological order (feed-forward) or in index
//! order (recurrent), each with its incoming edges in spec order.
//!
//! Two ways to the same result. Small graphs (at most 64 nodes, few edges:
//! every NEAT network early in a run) use bit sets for the order and one
//! scan of the edges per node for the grouping, which touch a few cache
//! lines and allocate nothing; larger graphs use Kahn's algorithm and a
//! counting sort, linear in nodes and edges. Any topological order gives
//! the same values (a node sums its incoming edges in spec order whatever
//! order its independent neighbours were computed in), and both report the
//! same cycle, so which way a graph takes never shows.

use crate::graph::{GraphError, GraphSpec, Unit};

/// Largest `computed nodes × edges` compiled by scanning the edges per node.
const SMALL_SCAN: usize = 1024;

/// Checks what [`order_and_group`] relies on: enough nodes, edges between
/// existing nodes that do not end in an input, finite weights.
pub(crate) fn check_edges(spec: &GraphSpec, first: usize, n: usize) -> Result<(), GraphError> {
    if spec.nodes.len() < spec.outputs {
        return Err(GraphError::TooFewNodes {
            nodes: spec.nodes.len(),
            outputs: spec.outputs,
        });
    }
    for (index, e) in spec.edges.iter().enumerate() {
        if e.from >= n || e.to >= n {
            return Err(GraphError::BadNode {
                index,
                from: e.from,
                to: e.to,
                n,
            });
        }
        if e.to < first {
            return Err(GraphError::IntoInput {
                index,
                from: e.from,
                to: e.to,
            });
        }
        if !e.weight.is_finite() {
            return Err(GraphError::NonFinite { index });
        }
    }
    Ok(())
}

/// Fills `units` (evaluation order, each with the end of its edges) and
/// `edges` (`(source, weight)` grouped by unit, spec order within one),
/// replacing what they held. `spec` has passed [`check_edges`].
pub(crate) fn order_and_group(
    spec: &GraphSpec,
    first: usize,
    n: usize,
    scratch: &mut Vec<u32>,
    units: &mut Vec<Unit>,
    edges: &mut Vec<(u32, f32)>,
) -> Result<(), GraphError> {
    units.clear();
    edges.clear();
    let k = n - first;
    let unit = |v: usize| {
        let node = &spec.nodes[v - first];
        Unit {
            node: v as u32,
            end: 0,
            bias: node.bias,
            act: node.activation,
        }
    };
    let small = n <= 64 && k * spec.edges.len() <= SMALL_SCAN;
    if spec.recurrent {
        units.extend((first..n).map(unit));
    } else if small {
        small_order(spec, first, n, |v| units.push(unit(v)))?;
    } else {
        scratch.clear();
        scratch.resize(n + (n + 1) + spec.edges.len() + k, 0);
        topological_order(spec, first, n, scratch, |v| units.push(unit(v)))?;
    }
    if small {
        group_by_scan(spec, units, edges);
    } else {
        group_by_counting(spec, n, scratch, units, edges);
    }
    Ok(())
}

/// Kahn's algorithm over bit sets (`n ≤ 64`): a node is ready once every
/// computed node feeding it is done; inputs are done from the start.
fn small_order(
    spec: &GraphSpec,
    first: usize,
    n: usize,
    mut visit: impl FnMut(usize),
) -> Result<(), GraphError> {
    let mut feeds = [0u64; 64];
    for e in spec.edges.iter().filter(|e| e.from >= first) {
        feeds[e.to] |= 1 << e.from;
    }
    let all = |i: usize| if i == 64 { u64::MAX } else { (1u64 << i) - 1 };
    let mut done = all(first);
    let mut left = all(n) & !done;
    while left != 0 {
        let before = left;
        let mut scan = left;
        while scan != 0 {
            let v = scan.trailing_zeros() as usize;
            scan &= scan - 1;
            if feeds[v] & !done == 0 {
                visit(v);
                done |= 1 << v;
                left &= !(1 << v);
            }
        }
        if left == before {
            // What is left lies on or behind a cycle; name the lowest.
            return Err(GraphError::Cycle(left.trailing_zeros() as usize));
        }
    }
    Ok(())
}

/// Each unit's edges by one scan of all edges (`k · m` small).
fn group_by_scan(spec: &GraphSpec, units: &mut [Unit], edges: &mut Vec<(u32, f32)>) {
    for u in units.iter_mut() {
        let v = u.node as usize;
        edges.extend(
            spec.edges
                .iter()
                .filter(|e| e.to == v)
                .map(|e| (e.from as u32, e.weight)),
        );
        u.end = edges.len() as u32;
    }
}

/// Each unit's edges by a stable counting sort on the unit's position.
fn group_by_counting(
    spec: &GraphSpec,
    n: usize,
    scratch: &mut Vec<u32>,
    units: &mut [Unit],
    edges: &mut Vec<(u32, f32)>,
) {
    let k = units.len();
    scratch.clear();
    scratch.resize(n + k + 1, 0);
    let (slot, cursor) = scratch.split_at_mut(n);
    for (i, u) in units.iter().enumerate() {
        slot[u.node as usize] = i as u32;
    }
    for e in &spec.edges {
        cursor[slot[e.to] as usize + 1] += 1;
    }
    for i in 0..k {
        cursor[i + 1] += cursor[i];
    }
    for (i, u) in units.iter_mut().enumerate() {
        u.end = cursor[i + 1];
    }
    edges.resize(spec.edges.len(), (0, 0.0));
    for e in &spec.edges {
        let c = &mut cursor[slot[e.to] as usize];
        edges[*c as usize] = (e.from as u32, e.weight);
        *c += 1;
    }
}

/// Kahn's algorithm with a stack, linear in nodes and edges. `scratch`
/// holds `n` in-degrees, `n + 1` offsets, `m` targets and `k` stack slots.
fn topological_order(
    spec: &GraphSpec,
    first: usize,
    n: usize,
    scratch: &mut [u32],
    mut visit: impl FnMut(usize),
) -> Result<(), GraphError> {
    let (indegree, rest) = scratch.split_at_mut(n);
    let (offset, rest) = rest.split_at_mut(n + 1);
    let (out, ready) = rest.split_at_mut(spec.edges.len());
    let inner = || spec.edges.iter().filter(|e| e.from >= first);
    for e in inner() {
        indegree[e.to] += 1;
        offset[e.from] += 1;
    }
    // Inclusive prefix sums give each node's end; filling backwards moves
    // each offset to its start.
    for i in 1..=n {
        offset[i] += offset[i - 1];
    }
    for e in spec.edges.iter().rev().filter(|e| e.from >= first) {
        offset[e.from] -= 1;
        out[offset[e.from] as usize] = e.to as u32;
    }
    let mut top = 0;
    for v in (first..n).rev().filter(|&v| indegree[v] == 0) {
        ready[top] = v as u32;
        top += 1;
    }
    let mut visited = 0;
    while top > 0 {
        top -= 1;
        let v = ready[top] as usize;
        visit(v);
        visited += 1;
        for &t in &out[offset[v] as usize..offset[v + 1] as usize] {
            indegree[t as usize] -= 1;
            if indegree[t as usize] == 0 {
                ready[top] = t;
                top += 1;
            }
        }
    }
    if visited != n - first {
        let stuck = (first..n).find(|&v| indegree[v] > 0).unwrap_or(first);
        return Err(GraphError::Cycle(stuck));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphEdge, GraphNode};
    use crate::Activation;

    /// A random graph of `n` nodes (2 inputs, a bias) and `m` edges, which
    /// may close cycles.
    fn random_graph(seed: u64, n: usize, m: usize) -> GraphSpec {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = |k: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % k as u64) as usize
        };
        let first = 3;
        let edges = (0..m)
            .map(|i| {
                let to = first + next(n - first);
                // Mostly forward edges; some backward ones close cycles.
                let from = if next(8) == 0 { next(n) } else { next(to) };
                GraphEdge {
                    from,
                    to,
                    weight: i as f32 * 0.25 - 1.0,
                }
            })
            .collect();
        GraphSpec {
            inputs: 2,
            bias_input: Some(1.0),
            outputs: 1,
            nodes: vec![
                GraphNode {
                    activation: Activation::Tanh,
                    bias: 0.1,
                };
                n - first
            ],
            edges,
            recurrent: false,
        }
    }

    /// Each computed node's incoming edges, compiled the small or the large
    /// way.
    type EdgeLists = Vec<Vec<(u32, f32)>>;

    fn edge_lists(spec: &GraphSpec, small: bool) -> Result<EdgeLists, GraphError> {
        let (first, n) = (spec.first_computed(), spec.n_nodes());
        let (mut units, mut edges) = (Vec::new(), Vec::new());
        let unit = |v: usize| Unit {
            node: v as u32,
            end: 0,
            bias: 0.0,
            act: Activation::Identity,
        };
        if small {
            small_order(spec, first, n, |v| units.push(unit(v)))?;
            group_by_scan(spec, &mut units, &mut edges);
        } else {
            let mut scratch = vec![0; n + (n + 1) + spec.edges.len() + (n - first)];
            topological_order(spec, first, n, &mut scratch, |v| units.push(unit(v)))?;
            group_by_counting(spec, n, &mut scratch, &mut units, &mut edges);
        }
        let mut lists = vec![Vec::new(); n];
        let mut begin = 0;
        for u in &units {
            lists[u.node as usize] = edges[begin..u.end as usize].to_vec();
            begin = u.end as usize;
        }
        Ok(lists)
    }

    /// Both ways give every node the same edges in the same order (the
    /// evaluation orders may differ), and name the same node of a cycle.
    #[test]
    fn small_and_large_compilation_agree() {
        let mut cycles = 0;
        for seed in 0..500 {
            let spec = random_graph(seed, 4 + seed as usize % 40, seed as usize % 60);
            let (small, large) = (edge_lists(&spec, true), edge_lists(&spec, false));
            assert_eq!(small, large, "seed {seed}");
            cycles += usize::from(small.is_err());
        }
        assert!(cycles > 50 && cycles < 450, "{cycles} graphs with cycles");
    }
}
