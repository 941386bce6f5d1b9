//! `evonet draw`: a NEAT champion as Graphviz DOT and as a standalone SVG
//! (laid out here, no external program). Disabled connections are dashed,
//! line width grows with |weight|, blue is positive and red negative.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use evonet::neat::{NeatGenome, NodeGene, NodeKind};
use evonet::runner::atomic::write_atomic;

use crate::user;
use evonet::replay::{champion_path, load, Loaded};

pub fn draw(path: &Path, out: Option<&Path>) -> Result<()> {
    let file = champion_path(path);
    let c = match load(path).map_err(|e| user(e.to_string()))? {
        Loaded::Neat(c) => c,
        Loaded::Mlp(c) => {
            return Err(user(format!(
                "{}: a fixed-topology MLP ({} inputs, hidden {:?}, {} outputs); `draw` draws evolved topologies (NEAT champions)",
                file.display(),
                c.body.policy.mlp.inputs,
                c.body.policy.mlp.hidden,
                c.body.policy.mlp.outputs
            )))
        }
        Loaded::Vector(_) => {
            return Err(user(format!(
                "{}: a task's parameter vector; `draw` draws evolved topologies (NEAT champions)",
                file.display()
            )))
        }
    };
    let dir: PathBuf = match out {
        Some(d) => d.to_path_buf(),
        None => file.parent().unwrap_or(Path::new(".")).to_path_buf(),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("champion");
    let title = format!(
        "genome {} · generation {} · fitness {} · {} hidden nodes · {} enabled connections",
        c.body.genome.id,
        c.provenance.generation,
        c.provenance
            .fitness
            .map_or("-".into(), |f| format!("{f:.4}")),
        c.body.genome.hidden_nodes(),
        c.body.genome.enabled_conns()
    );
    let dot_path = dir.join(format!("{stem}.dot"));
    let svg_path = dir.join(format!("{stem}.svg"));
    write_atomic(&dot_path, to_dot(&c.body.genome, &title).as_bytes())
        .with_context(|| format!("writing {}", dot_path.display()))?;
    write_atomic(&svg_path, to_svg(&c.body.genome, &title).as_bytes())
        .with_context(|| format!("writing {}", svg_path.display()))?;
    println!("{}", dot_path.display());
    println!("{}", svg_path.display());
    Ok(())
}

fn label(g: &NeatGenome, id: u64) -> String {
    let l = g.layout;
    match g.node(id).map(|n| n.kind) {
        Some(NodeKind::Input) => format!("in{id}"),
        Some(NodeKind::Bias) => "bias".into(),
        Some(NodeKind::Output) => format!("out{}", id - l.first_output()),
        // Hidden nodes by their rank (structural ids, as ALPS's NEAT
        // variation makes, are 62-bit numbers).
        _ => {
            let rank = g.nodes.partition_point(|n| n.id < id);
            format!("h{}", rank - l.fixed_nodes() as usize)
        }
    }
}

fn max_abs_weight(g: &NeatGenome) -> f32 {
    g.conns
        .iter()
        .map(|c| c.weight.abs())
        .fold(1e-6f32, f32::max)
}

fn width(w: f32, max: f32) -> f32 {
    0.6 + 3.4 * w.abs() / max
}

const POSITIVE: &str = "#1f6fb4";
const NEGATIVE: &str = "#c62828";

pub fn to_dot(g: &NeatGenome, title: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "// format_version 1: written by evonet draw");
    let _ = writeln!(s, "digraph neat {{");
    let _ = writeln!(s, "  rankdir=LR; label=\"{title}\"; labelloc=t;");
    let _ = writeln!(s, "  node [style=filled, fontname=\"Helvetica\"];");
    for n in &g.nodes {
        let (shape, fill) = match n.kind {
            NodeKind::Input => ("box", "#dbe8fb"),
            NodeKind::Bias => ("box", "#fff1c2"),
            NodeKind::Output => ("doublecircle", "#d9f2df"),
            NodeKind::Hidden => ("circle", "#ffffff"),
        };
        let rank = match n.kind {
            NodeKind::Input | NodeKind::Bias => ", group=in",
            _ => "",
        };
        let _ = writeln!(
            s,
            "  n{} [label=\"{}\", shape={shape}, fillcolor=\"{fill}\"{rank}, tooltip=\"{} bias {:.3}\"];",
            n.id,
            label(g, n.id),
            n.activation.name(),
            n.bias
        );
    }
    let max = max_abs_weight(g);
    for c in &g.conns {
        let color = if c.weight >= 0.0 { POSITIVE } else { NEGATIVE };
        let style = if c.enabled { "solid" } else { "dashed" };
        let _ = writeln!(
            s,
            "  n{} -> n{} [penwidth={:.2}, color=\"{color}\", style={style}, label=\"{:.2}\", tooltip=\"innovation {}\"];",
            c.from,
            c.to,
            width(c.weight, max),
            c.weight,
            c.innovation
        );
    }
    let _ = writeln!(
        s,
        "  {{ rank=source; {} }}",
        ids(g, |k| matches!(k, NodeKind::Input | NodeKind::Bias))
    );
    let _ = writeln!(
        s,
        "  {{ rank=sink; {} }}",
        ids(g, |k| k == NodeKind::Output)
    );
    let _ = writeln!(s, "}}");
    s
}

fn ids(g: &NeatGenome, keep: impl Fn(NodeKind) -> bool) -> String {
    g.nodes
        .iter()
        .filter(|n| keep(n.kind))
        .map(|n| format!("n{};", n.id))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Column of each node: inputs 0, hidden nodes by their longest forward path
/// from the inputs (cycles ignored), outputs last.
fn layers(g: &NeatGenome) -> Vec<(u64, usize)> {
    let hidden = g.hidden_ids();
    let mut depth: std::collections::BTreeMap<u64, usize> =
        hidden.iter().map(|&h| (h, 1)).collect();
    for _ in 0..hidden.len() {
        let mut changed = false;
        for c in &g.conns {
            if let (Some(&df), Some(&dt)) = (depth.get(&c.from), depth.get(&c.to)) {
                if df + 1 > dt && df < hidden.len() {
                    depth.insert(c.to, df + 1);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let last = depth.values().copied().max().unwrap_or(0) + 1;
    g.nodes
        .iter()
        .map(|n| {
            let layer = match n.kind {
                NodeKind::Input | NodeKind::Bias => 0,
                NodeKind::Output => last,
                NodeKind::Hidden => depth[&n.id],
            };
            (n.id, layer)
        })
        .collect()
}

pub fn to_svg(g: &NeatGenome, title: &str) -> String {
    let placed = layers(g);
    let n_layers = placed.iter().map(|p| p.1).max().unwrap_or(0) + 1;
    let mut per_layer = vec![0usize; n_layers];
    for p in &placed {
        per_layer[p.1] += 1;
    }
    let tallest = per_layer.iter().copied().max().unwrap_or(1);
    let (dx, dy, r) = (170.0f32, 64.0f32, 17.0f32);
    let (w, h) = (
        (120.0 + dx * (n_layers.saturating_sub(1)) as f32)
            .max(24.0 + 6.6 * title.chars().count() as f32),
        110.0 + dy * tallest as f32,
    );
    let layer_of: std::collections::BTreeMap<u64, usize> = placed.iter().copied().collect();
    let mut seen = vec![0usize; n_layers];
    let mut pos = std::collections::BTreeMap::new();
    for &(id, layer) in &placed {
        let k = seen[layer];
        seen[layer] += 1;
        let offset = (tallest - per_layer[layer]) as f32 * dy / 2.0;
        pos.insert(
            id,
            (60.0 + dx * layer as f32, 80.0 + offset + dy * k as f32),
        );
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"Helvetica, Arial, sans-serif\">"
    );
    let _ = writeln!(s, "<!-- format_version 1: written by evonet draw -->");
    let _ = writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        s,
        "<text x=\"12\" y=\"24\" font-size=\"13\" fill=\"#333\">{}</text>",
        escape(title)
    );
    let _ = writeln!(
        s,
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>"
    );
    let max = max_abs_weight(g);
    for c in &g.conns {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(&c.from), pos.get(&c.to)) else {
            continue;
        };
        let color = if c.weight >= 0.0 { POSITIVE } else { NEGATIVE };
        let dash = if c.enabled {
            ""
        } else {
            " stroke-dasharray=\"6 4\" opacity=\"0.55\""
        };
        let sw = width(c.weight, max);
        let span = layer_of[&c.to] as f32 - layer_of[&c.from] as f32;
        let path = edge_path((x1, y1), (x2, y2), span, c.from == c.to, r);
        let _ = writeln!(
            s,
            "<path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{sw:.2}\"{dash} marker-end=\"url(#arrow)\"><title>{} → {}: weight {:.4}{} (innovation {})</title></path>",
            label(g, c.from),
            label(g, c.to),
            c.weight,
            if c.enabled { "" } else { ", disabled" },
            c.innovation
        );
    }
    for n in &g.nodes {
        node_svg(&mut s, g, n, pos[&n.id], r);
    }
    let _ = writeln!(
        s,
        "<text x=\"12\" y=\"{:.0}\" font-size=\"11\" fill=\"#555\">blue: positive, red: negative weight; width ∝ |weight|; dashed: disabled</text>",
        h - 12.0
    );
    let _ = writeln!(s, "</svg>");
    s
}

/// A node: its circle, label and tooltip.
fn node_svg(s: &mut String, g: &NeatGenome, n: &NodeGene, (x, y): (f32, f32), r: f32) {
    let fill = match n.kind {
        NodeKind::Input => "#dbe8fb",
        NodeKind::Bias => "#fff1c2",
        NodeKind::Output => "#d9f2df",
        NodeKind::Hidden => "#ffffff",
    };
    let _ = writeln!(
        s,
        "<g><title>{} ({}, bias {:.3})</title><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" fill=\"{fill}\" stroke=\"#333\" stroke-width=\"1.2\"/><text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#111\">{}</text></g>",
        label(g, n.id),
        n.activation.name(),
        n.bias,
        y + 4.0,
        label(g, n.id)
    );
}

/// The SVG path of a connection between two node centres: a loop above a
/// node to itself, else shortened to the circles' rims, straight to the
/// next column, bowed when it skips columns, and arched when it runs back.
fn edge_path(
    (x1, y1): (f32, f32),
    (x2, y2): (f32, f32),
    span: f32,
    self_loop: bool,
    r: f32,
) -> String {
    if self_loop {
        return format!(
            "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
            x1 - 8.0,
            y1 - r,
            x1 - 30.0,
            y1 - 60.0,
            x1 + 30.0,
            y1 - 60.0,
            x1 + 8.0,
            y1 - r
        );
    }
    let (ddx, ddy) = (x2 - x1, y2 - y1);
    let len = (ddx * ddx + ddy * ddy).sqrt().max(1e-3);
    let (ux, uy) = (ddx / len, ddy / len);
    let (sx, sy, ex, ey) = (x1 + ux * r, y1 + uy * r, x2 - ux * r, y2 - uy * r);
    if x2 > x1 && span <= 1.0 {
        format!("M{sx:.1},{sy:.1} L{ex:.1},{ey:.1}")
    } else if x2 > x1 {
        // Skipping columns: bow the edge so it does not run through the
        // nodes in between.
        let bow = 22.0 * (span - 1.0);
        let (cx, cy) = ((sx + ex) / 2.0 + uy * bow, (sy + ey) / 2.0 - ux * bow);
        format!("M{sx:.1},{sy:.1} Q{cx:.1},{cy:.1} {ex:.1},{ey:.1}")
    } else {
        let (cx, cy) = (
            (sx + ex) / 2.0 - uy * 50.0,
            (sy + ey) / 2.0 + ux * 50.0 - 40.0,
        );
        format!("M{sx:.1},{sy:.1} Q{cx:.1},{cy:.1} {ex:.1},{ey:.1}")
    }
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
