//! Where the images of a search come from (`[data]` of a config), loaded
//! and split into train, validation and test parts.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use evonet_train::data::{cifar, csv, idx, Split, Splits};
use evonet_train::DataError;

/// scikit-learn's 8 × 8 digits (CC BY 4.0, see data/README.md), built in.
const DIGITS: &[u8] = include_bytes!("../../../data/digits.csv");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataConfig {
    /// The built-in digits set (1,797 images), split three ways.
    Digits {
        #[serde(default = "default_part")]
        validation: f64,
        #[serde(default = "default_part")]
        test: f64,
    },
    /// IDX files as MNIST and Fashion-MNIST ship them (plain or gzip): the
    /// test set is its own pair of files, validation is split from train.
    Idx {
        train_images: PathBuf,
        train_labels: PathBuf,
        test_images: PathBuf,
        test_labels: PathBuf,
        #[serde(default = "ten")]
        classes: usize,
        #[serde(default = "default_validation")]
        validation: f64,
    },
    /// CIFAR-10 binary batches.
    Cifar10 {
        train: Vec<PathBuf>,
        test: PathBuf,
        #[serde(default = "default_validation")]
        validation: f64,
    },
    /// A CSV file with one pixel per column and a label column, split three
    /// ways.
    Csv {
        path: PathBuf,
        #[serde(default = "label")]
        label: String,
        /// Channels, height, width.
        shape: [usize; 3],
        max_value: f32,
        classes: usize,
        #[serde(default = "default_part")]
        validation: f64,
        #[serde(default = "default_part")]
        test: f64,
    },
}

fn default_part() -> f64 {
    0.2
}
fn default_validation() -> f64 {
    0.1
}
fn ten() -> usize {
    10
}
fn label() -> String {
    "label".into()
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig::Digits {
            validation: default_part(),
            test: default_part(),
        }
    }
}

impl DataConfig {
    /// Checks the fractions; the error names the key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let frac = |key, v: f64| {
            if v > 0.0 && v < 0.9 {
                Ok(())
            } else {
                Err((key, format!("{v} is not in (0, 0.9)")))
            }
        };
        match self {
            DataConfig::Digits { validation, test }
            | DataConfig::Csv {
                validation, test, ..
            } => {
                frac("validation", *validation)?;
                frac("test", *test)?;
                if validation + test >= 0.9 {
                    return Err((
                        "test",
                        "validation and test leave too little to train".into(),
                    ));
                }
                Ok(())
            }
            DataConfig::Idx {
                validation,
                classes,
                ..
            } => {
                if !(2..=256).contains(classes) {
                    return Err(("classes", "must be between 2 and 256".into()));
                }
                frac("validation", *validation)
            }
            DataConfig::Cifar10 {
                validation, train, ..
            } => {
                if train.is_empty() {
                    return Err(("train", "name at least one batch file".into()));
                }
                frac("validation", *validation)
            }
        }
    }

    /// A short name for summaries.
    pub fn name(&self) -> &'static str {
        match self {
            DataConfig::Digits { .. } => "digits",
            DataConfig::Idx { .. } => "idx",
            DataConfig::Cifar10 { .. } => "cifar10",
            DataConfig::Csv { .. } => "csv",
        }
    }

    /// Loads and splits the data; relative paths are taken from `base`
    /// (the config file's folder). The split depends on `seed` only.
    pub fn load(&self, base: &Path, seed: u64) -> Result<Splits, DataError> {
        let splits = self.load_unchecked(base, seed)?;
        check_splits(&splits, &self.source(base))?;
        Ok(splits)
    }

    /// The file errors about the whole set name.
    fn source(&self, base: &Path) -> PathBuf {
        match self {
            DataConfig::Digits { .. } => PathBuf::from("<built-in digits>"),
            DataConfig::Csv { path, .. } => base.join(path),
            DataConfig::Idx { train_images, .. } => base.join(train_images),
            DataConfig::Cifar10 { train, .. } => {
                base.join(train.first().cloned().unwrap_or_default())
            }
        }
    }

    fn load_unchecked(&self, base: &Path, seed: u64) -> Result<Splits, DataError> {
        let at = |p: &PathBuf| base.join(p);
        Ok(match self {
            DataConfig::Digits { validation, test } => {
                let d = csv::parse(
                    DIGITS,
                    Path::new("<built-in digits>"),
                    &csv::CsvFormat::digits(),
                )?;
                Split {
                    validation: *validation,
                    test: *test,
                }
                .apply(&d, seed)
            }
            DataConfig::Csv {
                path,
                label,
                shape,
                max_value,
                classes,
                validation,
                test,
            } => {
                let f = csv::CsvFormat {
                    label: label.clone(),
                    shape: *shape,
                    max_value: *max_value,
                    classes: *classes,
                };
                let d = csv::load(&at(path), &f)?;
                Split {
                    validation: *validation,
                    test: *test,
                }
                .apply(&d, seed)
            }
            DataConfig::Idx {
                train_images,
                train_labels,
                test_images,
                test_labels,
                classes,
                validation,
            } => {
                let train = idx::load(&at(train_images), &at(train_labels), *classes)?;
                let test = idx::load(&at(test_images), &at(test_labels), *classes)?;
                if test.shape != train.shape {
                    return Err(DataError::Format {
                        path: at(test_images),
                        message: format!(
                            "images of {:?} (channels, height, width), but the training images ({}) are {:?}",
                            test.shape,
                            at(train_images).display(),
                            train.shape
                        ),
                    });
                }
                with_test(train, test, *validation, seed)
            }
            DataConfig::Cifar10 {
                train,
                test,
                validation,
            } => {
                let files: Vec<PathBuf> = train.iter().map(at).collect();
                let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
                let train = cifar::load(&refs)?;
                let test = cifar::load(&[&at(test)])?;
                with_test(train, test, *validation, seed)
            }
        })
    }
}

/// Refuses splits a search cannot learn from or be scored on: an empty
/// part, a training part of one class, or a class of the training part
/// missing from the validation or test part (too few images to split: a
/// search would train on nothing, or score on a part that cannot tell its
/// candidates apart).
fn check_splits(s: &Splits, path: &Path) -> Result<(), DataError> {
    let refuse = |message: String| {
        Err(DataError::Format {
            path: path.to_path_buf(),
            message,
        })
    };
    let sizes = format!(
        "{} training, {} validation and {} test images",
        s.train.len(),
        s.validation.len(),
        s.test.len()
    );
    for (part, d) in [
        ("training", &s.train),
        ("validation", &s.validation),
        ("test", &s.test),
    ] {
        if d.is_empty() {
            return refuse(format!(
                "the {part} part is empty ({sizes}): too few images to split; each class needs enough images for every part"
            ));
        }
    }
    let classes = s.train.class_counts().iter().filter(|&&n| n > 0).count();
    if classes < 2 {
        return refuse(format!(
            "the training part holds {classes} class ({sizes}): nothing to tell apart"
        ));
    }
    let trained = s.train.class_counts();
    for (part, d) in [("validation", &s.validation), ("test", &s.test)] {
        let counts = d.class_counts();
        if let Some(c) = (0..trained.len()).find(|&c| trained[c] > 0 && counts[c] == 0) {
            return refuse(format!(
                "class {c} has no image in the {part} part ({sizes}): too few images of it to split"
            ));
        }
    }
    if s.train.shape.contains(&0) {
        return refuse(format!("images of shape {:?}: empty images", s.train.shape));
    }
    Ok(())
}

/// A set with its own test part: validation is split from the training part.
fn with_test(
    train: evonet_train::Dataset,
    test: evonet_train::Dataset,
    validation: f64,
    seed: u64,
) -> Splits {
    let s = Split {
        validation,
        test: 0.0,
    }
    .apply(&train, seed);
    Splits {
        train: s.train,
        validation: s.validation,
        test,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_rows(name: &str, rows: usize) -> Result<Splits, DataError> {
        let d = std::env::temp_dir().join(format!("evonet-nas-data-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let mut text = String::from("a,b,label\n");
        for i in 0..rows {
            text.push_str(&format!("{},{},{}\n", i % 16, (i * 7) % 16, i % 2));
        }
        std::fs::write(d.join(name), text).unwrap();
        let cfg = DataConfig::Csv {
            path: name.into(),
            label: "label".into(),
            shape: [1, 1, 2],
            max_value: 16.0,
            classes: 2,
            validation: 0.2,
            test: 0.2,
        };
        cfg.load(&d, 0)
    }

    #[test]
    fn idx_test_images_of_another_size_are_refused() {
        let d = std::env::temp_dir().join(format!("evonet-nas-idx-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let write = |name: &str, magic: u32, dims: &[u32]| {
            let n: u32 = dims.iter().product();
            let values: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
            std::fs::write(d.join(name), idx::encode(magic, dims, &values)).unwrap();
        };
        write("train-images", 2051, &[40, 4, 4]);
        write("train-labels", 2049, &[40]);
        write("test-images", 2051, &[10, 5, 5]);
        write("test-labels", 2049, &[10]);
        let cfg = DataConfig::Idx {
            train_images: "train-images".into(),
            train_labels: "train-labels".into(),
            test_images: "test-images".into(),
            test_labels: "test-labels".into(),
            classes: 2,
            validation: 0.2,
        };
        let e = cfg.load(&d, 0).unwrap_err().to_string();
        assert!(
            e.contains("test-images") && e.contains("[1, 5, 5]") && e.contains("[1, 4, 4]"),
            "{e}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn sets_too_small_to_split_are_refused_naming_the_file() {
        for rows in [1, 5] {
            let e = csv_rows(&format!("tiny{rows}.csv"), rows)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("tiny{rows}.csv")) && e.contains("part"),
                "{e}"
            );
        }
        let ok = csv_rows("forty.csv", 40).unwrap();
        assert_eq!(ok.train.len() + ok.validation.len() + ok.test.len(), 40);
    }
}
