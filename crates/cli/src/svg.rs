//! What every SVG that `evonet plot` writes shares: the opening (size,
//! font, the format version comment, a white background) and a plot
//! area's frame with its two axis labels.

use std::fmt::Write as _;

/// Format version written into every plot.
pub const FORMAT_VERSION: u32 = 1;

/// The `<svg>` tag of a `w` × `h` picture, the format comment and a white
/// background.
pub fn open(w: f64, h: f64) -> String {
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        "<!-- format_version {FORMAT_VERSION}: written by evonet {} -->",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(svg, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    svg
}

/// The plot area (`left`, `top`, `pw` × `ph`), the x label under it
/// (at `label_y`) and the y label turned along its left side.
pub fn frame(svg: &mut String, area: [f64; 4], label_y: f64, x_label: &str, y_label: &str) {
    let [left, top, pw, ph] = area;
    let _ = writeln!(
        svg,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{label_y:.1}" text-anchor="middle">{x_label}</text>"#,
        left + pw / 2.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle">{y_label}</text>"#,
        top + ph / 2.0
    );
}
