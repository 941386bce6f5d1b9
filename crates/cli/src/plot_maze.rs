//! `evonet plot --maze RUN`: the maze of a run on `Maze/*` with the final
//! position of every evaluated robot, coloured by generation (early dark
//! blue to late yellow), the start (green) and the goal (red): the picture
//! of Lehman & Stanley's Figure 5 that shows where a search spends its
//! evaluations, and so whether the fitness deceived it.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use evonet::envs::maze::{MazeMap, GOAL_RADIUS};
use evonet::envs::EnvId;

use crate::user;

/// Format version written into the SVG.
const FORMAT_VERSION: u32 = 1;
/// Pixels per maze unit.
const SCALE: f64 = 3.0;
const MARGIN: f64 = 20.0;
/// At most this many robots are drawn (evenly thinned beyond it), so that
/// the SVG stays a few megabytes.
const MAX_POINTS: usize = 10_000;
/// Shades between the first generation's colour and the last's.
const COLOURS: usize = 32;

pub fn plot(dir: &Path, out: &Path) -> Result<()> {
    let exp = crate::config_file::read(&dir.join("config.toml"))?;
    let id = exp
        .config()
        .env
        .as_ref()
        .map(|e| e.id.clone())
        .unwrap_or_default();
    let map = match EnvId::parse(&id) {
        Ok(EnvId::Maze { map, .. }) => map,
        _ => {
            return Err(user(format!(
                "{}: `--maze` draws runs on Maze/* environments, this one is on `{id}`",
                dir.display()
            )))
        }
    };
    let metrics = dir.join("metrics.jsonl");
    let records = evonet::runner::metrics::read_all(&metrics)
        .map_err(|e| user(format!("{}: {e}", metrics.display())))?;
    let points: Vec<(u64, f32, f32)> = records
        .iter()
        .flat_map(|r| {
            r.behaviors
                .iter()
                .filter(|b| b.len() == 2)
                .map(move |b| (r.generation, b[0], b[1]))
        })
        .collect();
    if points.is_empty() {
        return Err(user(format!(
            "{}: no final positions recorded (runs of this evonet on Maze/* record them)",
            metrics.display()
        )));
    }
    let last = points.iter().map(|p| p.0).max().unwrap_or(0).max(1);
    let stride = points.len().div_ceil(MAX_POINTS);
    let drawn: Vec<_> = points.iter().copied().step_by(stride).collect();
    let label = format!(
        "{} on {id}: {} robots over {} generations{}{}",
        exp.config().method(),
        points.len(),
        last + 1,
        if stride > 1 {
            format!(" (1 in {stride} drawn)")
        } else {
            String::new()
        },
        if records.last().is_some_and(|r| r.solved) {
            ", solved"
        } else {
            ""
        }
    );
    let svg = render(map, &drawn, last, &label);
    evonet::runner::atomic::write_atomic(out, svg.as_bytes())
        .map_err(|e| user(format!("{}: {e}", out.display())))?;
    println!("wrote {}", out.display());
    Ok(())
}

fn render(map: MazeMap, points: &[(u64, f32, f32)], last: u64, label: &str) -> String {
    let [x0, y0, x1, y1] = map.bounds();
    let (w, h) = (
        (x1 - x0) * SCALE + 2.0 * MARGIN,
        (y1 - y0) * SCALE + 2.0 * MARGIN + 20.0,
    );
    let px = |x: f64| MARGIN + (x - x0) * SCALE;
    // The maze's y grows downwards, as the reference code draws it.
    let py = |y: f64| 20.0 + MARGIN + (y - y0) * SCALE;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<!-- evonet maze plot, format version {FORMAT_VERSION} -->"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{w:.0}" height="{h:.0}" fill="white"/>"#
    );
    let _ = writeln!(svg, r#"<text x="{MARGIN}" y="16">{}</text>"#, escape(label));
    // One group per colour (COLOURS steps from the first generation to
    // the last), so each robot is a short element.
    let mut open: Option<usize> = None;
    for (g, x, y) in points {
        let shade = (*g as f64 / last as f64 * (COLOURS - 1) as f64).round() as usize;
        if open != Some(shade) {
            if open.is_some() {
                svg.push_str("</g>\n");
            }
            let colour = color(shade as f64 / (COLOURS - 1) as f64);
            let _ = writeln!(svg, r#"<g fill="{colour}" fill-opacity="0.5">"#);
            open = Some(shade);
        }
        let _ = writeln!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="1.5"/>"#,
            px(f64::from(*x)),
            py(f64::from(*y))
        );
    }
    if open.is_some() {
        svg.push_str("</g>\n");
    }
    for wall in map.walls() {
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="black" stroke-width="2"/>"#,
            px(wall[0]),
            py(wall[1]),
            px(wall[2]),
            py(wall[3])
        );
    }
    for ((x, y), fill) in [(map.start(), "#2ca02c"), (map.goal(), "#d62728")] {
        let _ = writeln!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="{fill}" stroke="black"/>"#,
            px(x),
            py(y),
            GOAL_RADIUS * SCALE
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// From dark blue (t = 0) through green to yellow (t = 1), like viridis.
fn color(t: f64) -> String {
    const STOPS: [(f64, f64, f64); 4] = [
        (68.0, 1.0, 84.0),
        (49.0, 104.0, 142.0),
        (53.0, 183.0, 121.0),
        (253.0, 231.0, 37.0),
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_run_from_blue_to_yellow() {
        assert_eq!(color(0.0), "#440154");
        assert_eq!(color(1.0), "#fde725");
    }

    #[test]
    fn the_hard_maze_is_drawn_with_every_wall_and_point() {
        let svg = render(
            MazeMap::Hard,
            &[(0, 36.0, 184.0), (5, 31.0, 20.0)],
            5,
            "a<b",
        );
        assert_eq!(svg.matches("<line").count(), 13);
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("a&lt;b"));
    }
}
