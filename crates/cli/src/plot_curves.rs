//! `evonet plot RUN...` for weight-evolution runs (RL): learning curves
//! against environment frames, as Such et al. and Salimans et al. plot them:
//! three panels (the generation's best return, its mean return, the
//! champion's test return), one line per strategy (the mean over its runs,
//! seeds usually) with a band from the lowest to the highest run, written
//! as a standalone SVG; and a Markdown table of the final values.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use evonet::GenerationRecord;

use crate::user;

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];
/// Points on the common frame axis.
const GRID: usize = 60;

/// One run's curves: (frames, value) per generation, per panel.
pub struct Run {
    strategy: String,
    panels: [Vec<(f64, f64)>; 3],
}

const PANELS: [&str; 3] = [
    "best return of the generation",
    "mean return of the generation",
    "champion's test return",
];

fn load(dir: &Path, records: Vec<GenerationRecord>) -> Result<Run> {
    let exp = crate::config_file::read(&dir.join("config.toml"))?;
    let mut panels: [Vec<(f64, f64)>; 3] = Default::default();
    for r in &records {
        let x = r.env_steps as f64;
        let values = [r.best_fitness, r.mean_fitness, r.test_score];
        for (p, v) in panels.iter_mut().zip(values) {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                p.push((x, v));
            }
        }
    }
    Ok(Run {
        strategy: exp.config().method(),
        panels,
    })
}

/// The run's value at `x`: the last point at or before it (a step curve).
fn at(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let i = points.partition_point(|p| p.0 <= x);
    (i > 0).then(|| points[i - 1].1)
}

/// The runs as weight-evolution runs, or `None` when the first is an
/// architecture search (its metrics hold candidate lines).
pub fn load_all(dirs: &[PathBuf]) -> Result<Option<Vec<(PathBuf, Run)>>> {
    let mut out = Vec::new();
    for d in dirs {
        let metrics = d.join("metrics.jsonl");
        let read_err = |e: std::io::Error| user(format!("{}: {e}", metrics.display()));
        let search = !evonet::runner::read_candidates(&metrics)
            .map_err(read_err)?
            .is_empty();
        if search {
            if out.is_empty() {
                return Ok(None);
            }
            return Err(user(format!(
                "{}: an architecture search; plot RL runs together, or searches together",
                metrics.display()
            )));
        }
        let recs = evonet::runner::metrics::read_all(&metrics).map_err(read_err)?;
        out.push((d.clone(), load(d, recs)?));
    }
    Ok(Some(out))
}

pub fn plot(runs: &[(PathBuf, Run)], out: &Path) -> Result<()> {
    let mut groups: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for (_, r) in runs {
        groups.entry(&r.strategy).or_default().push(r);
    }
    let x1 = runs
        .iter()
        .flat_map(|(_, r)| r.panels[0].last().map(|p| p.0))
        .fold(f64::INFINITY, f64::min);
    if !x1.is_finite() || x1 <= 0.0 {
        return Err(user("the runs have no generations to plot"));
    }
    let xs: Vec<f64> = (1..=GRID).map(|i| x1 * i as f64 / GRID as f64).collect();
    println!(
        "| strategy | runs | best | mean | test (at {:.2} M frames; mean over runs) |",
        x1 / 1e6
    );
    println!("|---|---|---|---|---|");
    let mut svg = header();
    for (p, title) in PANELS.iter().enumerate() {
        let bands: Vec<(&str, Vec<Band>)> = groups
            .iter()
            .map(|(name, rs)| (*name, xs.iter().map(|&x| Band::of(rs, p, x)).collect()))
            .collect();
        panel(&mut svg, p, title, &xs, &bands);
    }
    for (name, rs) in &groups {
        let last: Vec<String> = (0..3)
            .map(|p| {
                Band::of(rs, p, x1)
                    .mean
                    .map_or("-".into(), |v| format!("{v:.2}"))
            })
            .collect();
        println!(
            "| {name} | {} | {} | {} | {} |",
            rs.len(),
            last[0],
            last[1],
            last[2]
        );
    }
    legend(&mut svg, &groups);
    svg.push_str("</svg>\n");
    evonet::runner::atomic::write_atomic(out, svg.as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    println!("\nplot: {}", out.display());
    Ok(())
}

/// Mean, lowest and highest over a strategy's runs at one frame count.
#[derive(Clone, Copy)]
struct Band {
    mean: Option<f64>,
    lo: f64,
    hi: f64,
}

impl Band {
    fn of(rs: &[&Run], panel: usize, x: f64) -> Band {
        let v: Vec<f64> = rs.iter().filter_map(|r| at(&r.panels[panel], x)).collect();
        let mean =
            (v.len() == rs.len() && !v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Band { mean, lo, hi }
    }
}

const W: f64 = 860.0;
const PANEL_H: f64 = 230.0;
const LEFT: f64 = 70.0;
const PW: f64 = 600.0;
const PH: f64 = 170.0;

fn header() -> String {
    crate::svg::open(W, PANEL_H * 3.0 + 30.0)
}

/// One panel: axes, then per strategy a band (lowest to highest run) and
/// the mean line.
fn panel(svg: &mut String, p: usize, title: &str, xs: &[f64], bands: &[(&str, Vec<Band>)]) {
    let top = 30.0 + PANEL_H * p as f64;
    let finite = |v: f64| v.is_finite().then_some(v);
    let all = bands
        .iter()
        .flat_map(|(_, b)| b.iter().flat_map(|b| [finite(b.lo), finite(b.hi)]));
    let (mut y0, mut y1) = all
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.05).max(1e-3);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let x1 = xs[xs.len() - 1];
    let x = |v: f64| LEFT + PW * v / x1;
    let y = |v: f64| top + PH * (1.0 - (v - y0) / (y1 - y0));
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="{:.1}" font-weight="bold">{title}</text>"#,
        top - 8.0
    );
    for k in 0..=4 {
        let v = y0 + (y1 - y0) * k as f64 / 4.0;
        let f = x1 * k as f64 / 4.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.1}</text><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{:.1} M</text>"##,
            LEFT + PW,
            LEFT - 6.0,
            y(v) + 4.0,
            top + PH + 16.0,
            f / 1e6,
            yy = y(v),
            xx = x(f),
        );
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{top}" width="{PW}" height="{PH}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">frames</text>"#,
        LEFT + PW / 2.0,
        top + PH + 32.0
    );
    for (g, (_, b)) in bands.iter().enumerate() {
        let color = COLORS[g % COLORS.len()];
        let pts = |f: &dyn Fn(&Band) -> Option<f64>| -> Vec<String> {
            xs.iter()
                .zip(b)
                .filter_map(|(&xv, band)| f(band).map(|v| format!("{:.1},{:.1}", x(xv), y(v))))
                .collect()
        };
        let mut area = pts(&|b| finite(b.hi));
        area.extend(pts(&|b| finite(b.lo)).into_iter().rev());
        let _ = writeln!(
            svg,
            r#"<polygon fill="{color}" fill-opacity="0.15" stroke="none" points="{}"/>"#,
            area.join(" ")
        );
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2.5" points="{}"/>"#,
            pts(&|b| b.mean).join(" ")
        );
    }
}

fn legend(svg: &mut String, groups: &BTreeMap<&str, Vec<&Run>>) {
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}">bands: lowest to highest run</text>"#,
        LEFT + PW + 12.0,
        50.0 + 22.0 * groups.len() as f64 + 8.0
    );
    for (g, (name, rs)) in groups.iter().enumerate() {
        let color = COLORS[g % COLORS.len()];
        let ly = 50.0 + 22.0 * g as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{name} ({} runs)</text>"#,
            LEFT + PW + 12.0,
            LEFT + PW + 32.0,
            LEFT + PW + 38.0,
            ly + 4.0,
            rs.len()
        );
    }
}
