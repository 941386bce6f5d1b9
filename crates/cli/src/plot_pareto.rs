//! `evonet plot RUN...` for multi-objective searches (runs with
//! `pareto.json`): every trained candidate as a faint dot and each run's
//! Pareto front as a staircase, validation error against the first cost
//! (on a log scale: parameter counts and FLOPs span orders of magnitude),
//! as a standalone SVG; and a Markdown table of each run's front and
//! hypervolume.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use evonet::pareto_file::{self, ParetoFile, ParetoSettings};

use crate::user;

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];
/// Size of the picture and of the plot area's margins.
const SIZE: (f64, f64) = (820.0, 520.0);
const MARGIN: (f64, f64, f64, f64) = (80.0, 190.0, 30.0, 60.0);

struct Run {
    dir: PathBuf,
    file: ParetoFile,
    /// (cost, error) of every trained candidate with all objectives.
    all: Vec<(f64, f64)>,
}

/// Whether every run folder has a `pareto.json`.
pub fn applies(dirs: &[PathBuf]) -> bool {
    dirs.iter().all(|d| d.join("pareto.json").is_file())
}

fn load(dir: &Path) -> Result<Run> {
    let file = pareto_file::read(dir).map_err(user)?;
    if file.objectives.len() < 2 {
        return Err(user(format!(
            "{}: a front over one objective has nothing to draw",
            dir.join("pareto.json").display()
        )));
    }
    let metrics = dir.join("metrics.jsonl");
    let records = evonet::runner::read_candidates(&metrics)
        .map_err(|e| user(format!("{}: {e}", metrics.display())))?;
    let settings = ParetoSettings::of_file(&file);
    let all = records
        .iter()
        .filter_map(|r| settings.objectives(r))
        .map(|o| (o[1], o[0]))
        .collect();
    Ok(Run {
        dir: dir.to_path_buf(),
        file,
        all,
    })
}

pub fn plot(dirs: &[PathBuf], out: &Path) -> Result<()> {
    let runs: Vec<Run> = dirs.iter().map(|d| load(d)).collect::<Result<_>>()?;
    let cost = runs[0].file.objectives[1].clone();
    if let Some(r) = runs
        .iter()
        .find(|r| r.file.objectives != runs[0].file.objectives)
    {
        return Err(user(format!(
            "{}: objectives {:?} differ from {}'s {:?}",
            r.dir.display(),
            r.file.objectives,
            runs[0].dir.display(),
            runs[0].file.objectives
        )));
    }
    print_table(&runs);
    let frame = Frame::new(&runs);
    let mut svg = frame.axes(&cost);
    for (i, r) in runs.iter().enumerate() {
        frame.run(&mut svg, r, i);
    }
    svg.push_str("</svg>\n");
    evonet::runner::atomic::write_atomic(out, svg.as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    println!("\nplot: {}", out.display());
    Ok(())
}

fn print_table(runs: &[Run]) {
    println!("| run | objectives | candidates | front | hypervolume | reference | best validation accuracy |");
    println!("|---|---|---|---|---|---|---|");
    for r in runs {
        let f = &r.file;
        let best = f.front.first().map_or(f64::NAN, |m| m.val_accuracy);
        println!(
            "| {} | {} | {} | {} | {:.6} | {:?} | {best:.4} |",
            r.dir.display(),
            f.objectives.join(", "),
            f.candidates_trained,
            f.front.len(),
            f.hypervolume,
            f.reference
        );
    }
}

/// The chart's geometry: the plot area, log10 of the cost range and the
/// error range shown.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn new(runs: &[Run]) -> Self {
        let pts = || runs.iter().flat_map(|r| r.all.iter());
        let costs = pts().map(|p| p.0.max(1.0).log10());
        let x0 = costs.clone().fold(f64::INFINITY, f64::min).floor();
        let x1 = costs.fold(f64::NEG_INFINITY, f64::max).ceil().max(x0 + 1.0);
        let worst = (pts().map(|p| p.1).fold(0.0, f64::max) * 10.0)
            .ceil()
            .min(10.0)
            / 10.0;
        Self {
            x0,
            x1,
            y0: 0.0,
            y1: if worst > 0.0 { worst } else { 1.0 },
        }
    }

    fn x(&self, cost: f64) -> f64 {
        let (left, right, _, _) = MARGIN;
        let pw = SIZE.0 - left - right;
        let t = (cost.max(1.0).log10() - self.x0) / (self.x1 - self.x0);
        left + pw * t.clamp(0.0, 1.0)
    }

    fn y(&self, error: f64) -> f64 {
        let (_, _, top, bottom) = MARGIN;
        let ph = SIZE.1 - top - bottom;
        top + ph * ((error.clamp(self.y0, self.y1) - self.y0) / (self.y1 - self.y0))
    }

    /// The SVG's header, axes (decades of the cost, tenths of the error),
    /// grid and labels.
    fn axes(&self, cost: &str) -> String {
        let (w, h) = SIZE;
        let (left, right, top, bottom) = MARGIN;
        let (pw, ph) = (w - left - right, h - top - bottom);
        let mut svg = crate::svg::open(w, h);
        for k in 0..=5 {
            let e = self.y0 + (self.y1 - self.y0) * k as f64 / 5.0;
            let yy = self.y(e);
            let _ = writeln!(
                svg,
                r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{e:.2}</text>"##,
                left + pw,
                left - 6.0,
                yy + 4.0
            );
        }
        for d in (self.x0 as i32)..=(self.x1 as i32) {
            let xx = self.x(10f64.powi(d));
            let _ = writeln!(
                svg,
                r##"<line x1="{xx:.1}" y1="{top}" x2="{xx:.1}" y2="{:.1}" stroke="#ddd"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">1e{d}</text>"##,
                top + ph,
                top + ph + 19.0
            );
        }
        let x_label = format!("{cost} (log scale)");
        let area = [left, top, pw, ph];
        crate::svg::frame(&mut svg, area, h - 15.0, &x_label, "validation error");
        svg
    }

    /// One run: its candidates as dots, its front as a staircase with
    /// markers, and its legend line.
    fn run(&self, svg: &mut String, r: &Run, i: usize) {
        let color = COLORS[i % COLORS.len()];
        for &(c, e) in &r.all {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2" fill="{color}" fill-opacity="0.2"/>"#,
                self.x(c),
                self.y(e)
            );
        }
        // The front by increasing cost: a step down at each member.
        let mut front: Vec<(f64, f64)> = r
            .file
            .front
            .iter()
            .map(|m| (m.objectives[1], m.objectives[0]))
            .collect();
        front.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut steps = Vec::new();
        let mut best = f64::INFINITY;
        for &(c, e) in &front {
            if e < best {
                if best.is_finite() {
                    steps.push(format!("{:.1},{:.1}", self.x(c), self.y(best)));
                }
                steps.push(format!("{:.1},{:.1}", self.x(c), self.y(e)));
                best = e;
            }
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{color}"/>"#,
                self.x(c),
                self.y(e)
            );
        }
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            steps.join(" ")
        );
        let (_, right, top, _) = MARGIN;
        let lx = SIZE.0 - right + 12.0;
        let ly = top + 20.0 + 22.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{} (HV {:.4})</text>"#,
            lx + 24.0,
            lx + 30.0,
            ly + 4.0,
            short(&r.dir),
            r.file.hypervolume / box_volume(&r.file)
        );
    }
}

/// The volume between the origin and the reference point: the
/// hypervolume as a fraction of it is comparable across scales.
fn box_volume(f: &ParetoFile) -> f64 {
    f.reference
        .iter()
        .map(|r| r.max(f64::MIN_POSITIVE))
        .product()
}

/// A run folder's last component, for the legend.
fn short(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into())
}
