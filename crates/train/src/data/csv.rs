//! CSV image sets: a header row, one column per pixel and one label column
//! (scikit-learn's digits: `p0`..`p63` with values 0–16, then `label`).

use std::path::Path;

use super::{check_labels, read_maybe_gz, DataError, Dataset};

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvFormat {
    /// Name of the label column.
    pub label: String,
    /// Channels, height, width: their product is the number of pixel
    /// columns.
    pub shape: [usize; 3],
    /// The largest pixel value (maps to 1.0).
    pub max_value: f32,
    pub classes: usize,
}

impl CsvFormat {
    /// scikit-learn's 8 × 8 digits.
    pub fn digits() -> Self {
        Self {
            label: "label".into(),
            shape: [1, 8, 8],
            max_value: 16.0,
            classes: 10,
        }
    }
}

pub fn load(path: &Path, f: &CsvFormat) -> Result<Dataset, DataError> {
    parse(&read_maybe_gz(path)?, path, f)
}

/// Parses CSV `bytes`; `path` names them in errors.
pub fn parse(bytes: &[u8], path: &Path, f: &CsvFormat) -> Result<Dataset, DataError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| DataError::format(path, format!("not UTF-8 text: {e}")))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| DataError::format(path, "empty file (a header row is needed)"))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    for (i, name) in names.iter().enumerate() {
        if let Some(j) = names[..i].iter().position(|n| n == name) {
            return Err(DataError::format(
                path,
                format!(
                    "the header names column `{name}` twice (columns {} and {}): which one is meant is ambiguous",
                    j + 1,
                    i + 1
                ),
            ));
        }
    }
    let label_col = names
        .iter()
        .position(|n| *n == f.label)
        .ok_or_else(|| DataError::format(path, format!("no `{}` column in the header", f.label)))?;
    let pixels = names.len() - 1;
    let want: usize = f.shape.iter().product();
    if pixels != want {
        return Err(DataError::format(
            path,
            format!(
                "{pixels} pixel columns, but the shape {:?} needs {want}",
                f.shape
            ),
        ));
    }
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            return Err(DataError::format(
                path,
                format!(
                    "line {}: {} values, the header has {}",
                    i + 1,
                    cells.len(),
                    names.len()
                ),
            ));
        }
        for (c, cell) in cells.iter().enumerate() {
            let v: f32 = cell.parse().map_err(|_| {
                DataError::format(
                    path,
                    format!(
                        "line {}, column `{}`: `{cell}` is not a number",
                        i + 1,
                        names[c]
                    ),
                )
            })?;
            if c == label_col {
                if v.fract() != 0.0 || !(0.0..=255.0).contains(&v) {
                    return Err(DataError::format(
                        path,
                        format!("line {}: label `{cell}` is not a class number", i + 1),
                    ));
                }
                labels.push(v as u8);
            } else {
                if !v.is_finite() || v < 0.0 || v > f.max_value {
                    return Err(DataError::format(
                        path,
                        format!(
                            "line {}, column `{}`: {cell} is outside 0..={}",
                            i + 1,
                            names[c],
                            f.max_value
                        ),
                    ));
                }
                images.push(v / f.max_value);
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::format(path, "no data rows"));
    }
    check_labels(path, &labels, f.classes)?;
    Ok(Dataset {
        images,
        labels,
        shape: f.shape,
        classes: f.classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(name: &str, text: &str) -> Result<Dataset, DataError> {
        let d = std::env::temp_dir().join(format!("evonet-csv-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        let f = CsvFormat {
            label: "label".into(),
            shape: [1, 1, 2],
            max_value: 16.0,
            classes: 3,
        };
        load(&p, &f)
    }

    #[test]
    fn rows_load_and_bad_rows_are_located() {
        let ds = load_text("ok.csv", "a,b,label\n0,16,2\n8,4,0\n").unwrap();
        assert_eq!(ds.images, vec![0.0, 1.0, 0.5, 0.25]);
        assert_eq!(ds.labels, vec![2, 0]);
        let e = |name, text| load_text(name, text).unwrap_err().to_string();
        assert!(e("x1.csv", "a,b,label\n0,x,2\n")
            .contains("x1.csv: line 2, column `b`: `x` is not a number"));
        assert!(e("x2.csv", "a,b,label\n0,1\n").contains("line 2: 2 values, the header has 3"));
        assert!(e("x3.csv", "a,b,c\n0,1,2\n").contains("no `label` column"));
        assert!(e("x4.csv", "a,label\n0,1\n").contains("1 pixel columns, but the shape"));
        assert!(e("x5.csv", "a,b,label\n0,1,3\n").contains("label 3 of item 0 is out of range"));
        assert!(e("x6.csv", "a,b,label\n0,17,1\n").contains("17 is outside 0..=16"));
        assert!(e("x7.csv", "a,b,label\n0,1,1.5\n").contains("not a class number"));
        assert!(e("x8.csv", "").contains("empty file"));
        assert!(e("x9.csv", "a,b,label\n").contains("no data rows"));
        // A repeated label header picked the wrong column before.
        assert!(e("x10.csv", "label,b,label\n0,1,2\n")
            .contains("names column `label` twice (columns 1 and 3)"));
    }
}
