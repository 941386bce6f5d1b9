//! [`Arch`]: any architecture evonet trains, a chain or a cell network.
//!
//! In JSON (architecture.json, metrics lines, weights files) it is an
//! object tagged by `space`: `{"space": "chain", "blocks": [...]}` or
//! `{"space": "cell", "normal": {...}, ...}`. Binary formats (checkpoints,
//! the Redis protocol) use an externally tagged enum, as non-self-describing
//! formats (postcard) cannot read internally tagged ones.

use serde::{Deserialize, Serialize};

use crate::arch::{ArchError, Block, ChainArch, Cost};
use crate::cell::{Cell, CellArch};

#[derive(Debug, Clone, PartialEq)]
pub enum Arch {
    Chain(ChainArch),
    Cell(CellArch),
}

// An architecture travels whole to remote workers.
evonet_core::self_contained_transport!(Arch);

impl From<ChainArch> for Arch {
    fn from(a: ChainArch) -> Self {
        Arch::Chain(a)
    }
}

impl From<CellArch> for Arch {
    fn from(a: CellArch) -> Self {
        Arch::Cell(a)
    }
}

impl Arch {
    /// The name of the space (`chain` or `cell`).
    pub fn space(&self) -> &'static str {
        match self {
            Arch::Chain(_) => "chain",
            Arch::Cell(_) => "cell",
        }
    }

    /// Parameters and multiply-adds with the head to `classes`.
    pub fn cost(&self, input: [usize; 3], classes: usize) -> Result<Cost, ArchError> {
        match self {
            Arch::Chain(a) => a.cost(input, classes),
            Arch::Cell(a) => a.cost(input, classes),
        }
    }

    /// Every width multiplied by `factor` (the channel-scaling fidelity).
    pub fn scaled(&self, factor: f64) -> Arch {
        match self {
            Arch::Chain(a) => Arch::Chain(a.scaled(factor)),
            Arch::Cell(a) => Arch::Cell(a.scaled(factor)),
        }
    }

    /// Layers of a chain, blocks of both cells of a cell network.
    pub fn size(&self) -> usize {
        match self {
            Arch::Chain(a) => a.blocks.len(),
            Arch::Cell(a) => a.normal.blocks.len() + a.reduction.blocks.len(),
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arch::Chain(a) => a.fmt(f),
            Arch::Cell(a) => a.fmt(f),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "space", rename_all = "snake_case", deny_unknown_fields)]
enum ArchText {
    Chain {
        blocks: Vec<Block>,
    },
    Cell {
        normal: Cell,
        reduction: Cell,
        filters: usize,
        cells_per_stage: usize,
        reductions: usize,
    },
}

#[derive(Serialize, Deserialize)]
enum ArchBin {
    Chain(ChainArch),
    Cell(CellArch),
}

impl Serialize for Arch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            match self {
                Arch::Chain(a) => ArchText::Chain {
                    blocks: a.blocks.clone(),
                },
                Arch::Cell(a) => ArchText::Cell {
                    normal: a.normal.clone(),
                    reduction: a.reduction.clone(),
                    filters: a.filters,
                    cells_per_stage: a.cells_per_stage,
                    reductions: a.reductions,
                },
            }
            .serialize(s)
        } else {
            match self {
                Arch::Chain(a) => ArchBin::Chain(a.clone()),
                Arch::Cell(a) => ArchBin::Cell(a.clone()),
            }
            .serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Arch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            Ok(match ArchText::deserialize(d)? {
                ArchText::Chain { blocks } => Arch::Chain(ChainArch { blocks }),
                ArchText::Cell {
                    normal,
                    reduction,
                    filters,
                    cells_per_stage,
                    reductions,
                } => Arch::Cell(CellArch {
                    normal,
                    reduction,
                    filters,
                    cells_per_stage,
                    reductions,
                }),
            })
        } else {
            Ok(match ArchBin::deserialize(d)? {
                ArchBin::Chain(a) => Arch::Chain(a),
                ArchBin::Cell(a) => Arch::Cell(a),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{CellBlock, CellOp};

    fn cell_arch() -> Arch {
        let cell = Cell {
            blocks: vec![CellBlock {
                inputs: [0, 1],
                ops: [CellOp::Sep3x3, CellOp::Identity],
            }],
        };
        Arch::Cell(CellArch {
            normal: cell.clone(),
            reduction: cell,
            filters: 8,
            cells_per_stage: 2,
            reductions: 1,
        })
    }

    #[test]
    fn architectures_are_tagged_by_space_in_json_and_round_trip_in_postcard() {
        let chain = Arch::Chain(ChainArch {
            blocks: vec![Block::Dense { units: 4 }],
        });
        let j = serde_json::to_string(&chain).unwrap();
        assert_eq!(
            j,
            r#"{"space":"chain","blocks":[{"op":"dense","units":4}]}"#
        );
        assert_eq!(serde_json::from_str::<Arch>(&j).unwrap(), chain);
        let cell = cell_arch();
        let j = serde_json::to_string(&cell).unwrap();
        assert!(
            j.starts_with(r#"{"space":"cell","normal":{"blocks":[{"inputs":[0,1],"ops":["sep3x3","identity"]}]}"#),
            "{j}"
        );
        assert_eq!(serde_json::from_str::<Arch>(&j).unwrap(), cell);
        for a in [chain, cell] {
            let bin = postcard::to_allocvec(&a).unwrap();
            assert_eq!(postcard::from_bytes::<Arch>(&bin).unwrap(), a);
        }
        let e =
            serde_json::from_str::<Arch>(r#"{"space":"cell","normal":{"blocks":[]},"colour":1}"#)
                .unwrap_err()
                .to_string();
        assert!(e.contains("colour") || e.contains("unknown"), "{e}");
    }
}
