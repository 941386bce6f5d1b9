//! `evonet plot RUN...`: compares architecture searches as Real et al.
//! (weight-evolution runs go to `plot_curves`)
//! 2019 (Figure 3) do: the best validation accuracy found so far against
//! the number of candidates trained, one thin line per run and a thick
//! mean per strategy, written as a standalone SVG; and a Markdown table of
//! the best accuracy at the common budget per run and per strategy.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::user;

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];

struct Run {
    dir: PathBuf,
    strategy: String,
    /// Best validation accuracy after each trained candidate.
    best_so_far: Vec<f64>,
}

fn load(dir: &Path) -> Result<Run> {
    let cfg_path = dir.join("config.toml");
    let exp = crate::config_file::read(&cfg_path)?;
    let metrics = dir.join("metrics.jsonl");
    let mut recs = evonet::runner::read_candidates(&metrics)
        .map_err(|e| user(format!("{}: {e}", metrics.display())))?;
    if recs.is_empty() {
        return Err(user(format!(
            "{}: no candidate lines (only architecture searches can be plotted)",
            metrics.display()
        )));
    }
    recs.sort_by_key(|r| r.candidate);
    let mut best = f64::NAN;
    let best_so_far = recs
        .iter()
        .map(|r| {
            if let Some(f) = r.fitness {
                if best.is_nan() || f > best {
                    best = f;
                }
            }
            best
        })
        .collect();
    Ok(Run {
        dir: dir.to_path_buf(),
        strategy: exp.config().strategy.kind().to_string(),
        best_so_far,
    })
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

pub fn plot(dirs: &[PathBuf], out: &Path, budget: Option<usize>) -> Result<()> {
    if dirs.is_empty() {
        return Err(user("name at least one run folder"));
    }
    #[cfg(feature = "nas")]
    if crate::plot_pareto::applies(dirs) {
        return crate::plot_pareto::plot(dirs, out);
    }
    if let Some(rl) = crate::plot_curves::load_all(dirs)? {
        return crate::plot_curves::plot(&rl, out);
    }
    let runs: Vec<Run> = dirs.iter().map(|d| load(d)).collect::<Result<_>>()?;
    let common = runs.iter().map(|r| r.best_so_far.len()).min().unwrap_or(0);
    let budget = budget.unwrap_or(common).min(common);
    if budget == 0 {
        return Err(user("the runs have no trained candidates in common"));
    }
    let mut groups: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for r in &runs {
        groups.entry(&r.strategy).or_default().push(r);
    }

    print_tables(&runs, &groups, budget);
    let frame = Frame::new(&runs, budget);
    let mut svg = frame.axes(budget);
    frame.curves(&mut svg, &groups, budget);
    svg.push_str("</svg>\n");
    evonet::runner::atomic::write_atomic(out, svg.as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    println!("\nplot: {}", out.display());
    Ok(())
}

/// The Markdown tables: per strategy, then per run.
fn print_tables(runs: &[Run], groups: &BTreeMap<&str, Vec<&Run>>, budget: usize) {
    let at = |r: &Run| r.best_so_far[budget - 1];
    println!("| strategy | runs | best validation accuracy after {budget} candidates (mean ± std) | min | max |");
    println!("|---|---|---|---|---|");
    for (name, rs) in groups {
        let v: Vec<f64> = rs.iter().map(|r| at(r)).collect();
        let (m, s) = mean_std(&v);
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "| {name} | {} | {m:.4} ± {s:.4} | {min:.4} | {max:.4} |",
            v.len()
        );
    }
    println!();
    println!("| run | strategy | best after {budget} | first candidate reaching it |");
    println!("|---|---|---|---|");
    for r in runs {
        let b = at(r);
        let first = r
            .best_so_far
            .iter()
            .position(|x| *x == b)
            .map_or(0, |i| i + 1);
        println!(
            "| {} | {} | {b:.4} | {first} |",
            r.dir.display(),
            r.strategy
        );
    }
}

/// The chart's geometry: the plot area and the accuracy range shown.
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    top: f64,
    pw: f64,
    ph: f64,
    y0: f64,
    y1: f64,
    budget: usize,
}

impl Frame {
    fn new(runs: &[Run], budget: usize) -> Self {
        let (w, h, left, right, top, bottom) = (820.0, 520.0, 80.0, 190.0, 30.0, 60.0);
        let (pw, ph) = (w - left - right, h - top - bottom);
        // The y axis starts at the best accuracy after the first 10
        // candidates, so that the first random models do not flatten the
        // curves.
        let from = budget.clamp(1, 10) - 1;
        let lows: Vec<f64> = runs
            .iter()
            .filter_map(|r| {
                r.best_so_far[from..budget]
                    .iter()
                    .copied()
                    .find(|x| x.is_finite())
            })
            .collect();
        let y0 = lows.iter().copied().fold(1.0, f64::min);
        let y1 = runs
            .iter()
            .flat_map(|r| r.best_so_far[..budget].iter().copied())
            .filter(|x| x.is_finite())
            .fold(y0, f64::max);
        let pad = ((y1 - y0) * 0.05).max(1e-3);
        Self {
            w,
            h,
            left,
            top,
            pw,
            ph,
            y0: y0 - pad,
            y1: (y1 + pad).min(1.0 + pad),
            budget,
        }
    }

    fn x(&self, i: usize) -> f64 {
        self.left + self.pw * (i as f64) / ((self.budget - 1).max(1) as f64)
    }

    fn y(&self, v: f64) -> f64 {
        self.top + self.ph * (1.0 - (v.clamp(self.y0, self.y1) - self.y0) / (self.y1 - self.y0))
    }

    /// The SVG's header, axes, grid and labels.
    fn axes(&self, budget: usize) -> String {
        let Frame {
            w,
            h,
            left,
            top,
            pw,
            ph,
            y0,
            y1,
            ..
        } = *self;
        let x = |i: usize| self.x(i);
        let y = |v: f64| self.y(v);
        let mut svg = crate::svg::open(w, h);
        // Axes, grid and ticks.
        for k in 0..=5 {
            let v = y0 + (y1 - y0) * k as f64 / 5.0;
            let yy = y(v);
            let _ = writeln!(
                svg,
                r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.3}</text>"##,
                left + pw,
                left - 6.0,
                yy + 4.0
            );
            let i = ((budget - 1) as f64 * k as f64 / 5.0).round() as usize;
            let xx = x(i);
            let _ = writeln!(
                svg,
                r##"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="#333"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                top + ph,
                top + ph + 5.0,
                top + ph + 19.0,
                i + 1
            );
        }
        crate::svg::frame(
            &mut svg,
            [left, top, pw, ph],
            h - 15.0,
            "candidates trained",
            "best validation accuracy so far",
        );
        svg
    }

    /// One thin line per run and a thick mean per strategy, with a legend.
    fn curves(&self, svg: &mut String, groups: &BTreeMap<&str, Vec<&Run>>, budget: usize) {
        let Frame { left, top, pw, .. } = *self;
        let x = |i: usize| self.x(i);
        let y = |v: f64| self.y(v);
        let line = |pts: &[f64]| -> String {
            pts.iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        for (g, (name, rs)) in groups.iter().enumerate() {
            let color = COLORS[g % COLORS.len()];
            for r in rs {
                let _ = writeln!(
                    svg,
                    r#"<polyline fill="none" stroke="{color}" stroke-opacity="0.35" stroke-width="1" points="{}"/>"#,
                    line(&r.best_so_far[..budget])
                );
            }
            let mean: Vec<f64> = (0..budget)
                .map(|i| {
                    let v: Vec<f64> = rs
                        .iter()
                        .map(|r| r.best_so_far[i])
                        .filter(|v| v.is_finite())
                        .collect();
                    if v.len() == rs.len() {
                        v.iter().sum::<f64>() / v.len() as f64
                    } else {
                        f64::NAN
                    }
                })
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="3" points="{}"/>"#,
                line(&mean)
            );
            let ly = top + 20.0 + 22.0 * g as f64;
            let _ = writeln!(
                svg,
                r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{name} ({} runs)</text>"#,
                left + pw + 12.0,
                left + pw + 36.0,
                left + pw + 42.0,
                ly + 4.0,
                rs.len()
            );
        }
    }
}
