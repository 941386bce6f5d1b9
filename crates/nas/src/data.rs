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
