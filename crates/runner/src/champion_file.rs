//! `best/champion.json`: the problem's description of a champion (its
//! body) with the runner's provenance, written atomically when a better
//! champion appears, at most once a second (a fast search finds one every
//! few milliseconds, and each atomic write costs two fsyncs), and always
//! before a checkpoint: a resume re-runs the generations after its
//! checkpoint and rewrites what a crash lost.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use evonet_core::{Champion, TestReport};

use crate::atomic::write_atomic;
use crate::metrics::finite;
use crate::observer::{ChampionEvent, CheckpointEvent, Observed, Observer, ObserverError};
use crate::FORMAT_VERSION;

/// Turns a champion and its test into the problem's part of
/// `best/champion.json` (the runner adds the [`Provenance`]). An `Err` (a
/// champion that cannot be written, a bug of its problem) is logged and the
/// run goes on without that file.
pub type ExportFn<'a, G, B> = &'a dyn Fn(&Champion<G>, &TestReport) -> Result<B, String>;

/// Where a champion came from: the runner's part of every champion file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The generation whose champion this is.
    #[serde(default)]
    pub generation: u64,
    /// Its fitness as the strategy knew it (`null` for an ES centre that
    /// was never evaluated).
    #[serde(default)]
    pub fitness: Option<f64>,
    #[serde(default)]
    pub test_score: Option<f64>,
    #[serde(default)]
    pub test_solved: bool,
}

/// `best/champion.json`: the format version, what the problem says of the
/// champion (`body`, flattened into the same object), and its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChampionRecord<B> {
    pub format_version: u32,
    #[serde(flatten)]
    pub body: B,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// The champion file's text for a tested champion; empty when the problem
/// cannot describe it (logged).
pub(crate) fn champion_json<G, B: Serialize>(
    generation: u64,
    champ: &Champion<G>,
    test: &TestReport,
    export: ExportFn<'_, G, B>,
) -> String {
    let body = match export(champ, test) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(generation, "champion cannot be written: {e}");
            return String::new();
        }
    };
    let record = ChampionRecord {
        format_version: FORMAT_VERSION,
        body,
        provenance: Provenance {
            generation,
            fitness: finite(champ.fitness),
            test_score: finite(test.score),
            test_solved: test.solved,
        },
    };
    serde_json::to_string_pretty(&record).unwrap_or_else(|e| {
        // A body that does not serialise (a map with non-string keys) is a
        // bug of its problem; the run goes on without that file.
        tracing::error!(generation, "champion does not serialise: {e}");
        String::new()
    })
}

/// `best/champion.json` as an observer: the latest better champion's
/// document, written at most once a second and always when a checkpoint is
/// due.
pub struct ChampionFile {
    path: PathBuf,
    pending: Option<String>,
    last_write: Option<Instant>,
}

impl ChampionFile {
    /// The champion file of the run in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            path: dir.join("best").join("champion.json"),
            pending: None,
            last_write: None,
        }
    }

    fn flush(&mut self) -> Observed {
        if let Some(text) = self.pending.take() {
            write_atomic(&self.path, text.as_bytes())
                .map_err(|e| ObserverError::io(&self.path, e))?;
            self.last_write = Some(Instant::now());
        }
        Ok(())
    }
}

impl Observer for ChampionFile {
    fn on_champion(&mut self, event: &ChampionEvent<'_>) -> Observed {
        if !event.document.is_empty() {
            self.pending = Some(event.document.to_string());
        }
        if self
            .last_write
            .is_none_or(|t| t.elapsed().as_secs_f64() >= 1.0)
        {
            self.flush()?;
        }
        Ok(())
    }

    fn on_checkpoint(&mut self, _: &CheckpointEvent<'_>) -> Observed {
        self.flush()
    }
}
