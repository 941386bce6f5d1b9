//! Observers of a run's events, in the shape of EvoTorch's loggers: the
//! run emits events, and everything that records them is an observer. The
//! run's own files are observers too ([`crate::metrics::MetricsFile`],
//! [`crate::champion_file::ChampionFile`],
//! [`crate::checkpoint::CheckpointFile`]); they come first, in that order,
//! so that by the time a later observer hears of an event its files are
//! written, and a checkpoint never refers to lines or champions a crash
//! could lose (the metrics file syncs and the champion file flushes when
//! they hear of the checkpoint, before the checkpoint file writes it).

use std::path::Path;

use evonet_core::TestReport;

use crate::checkpoint::Checkpoint;
use crate::metrics::{CandidateRecord, GenerationRecord};

/// Why an observer could not record an event: the run stops with this
/// error (after the observers before it heard of the event).
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct ObserverError {
    /// What failed: the file's path, or the observer's own words.
    pub what: String,
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl ObserverError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self {
            what: path.display().to_string(),
            source: Box::new(source),
        }
    }
}

/// What an observer's handler returns.
pub type Observed = Result<(), ObserverError>;

/// A better champion was tested.
#[derive(Debug, Clone, Copy)]
pub struct ChampionEvent<'a> {
    /// The generation whose champion it is.
    pub generation: u64,
    pub test: &'a TestReport,
    /// The text of `best/champion.json` for it (format version, the
    /// problem's body, provenance): parse it as
    /// [`crate::ChampionRecord`] of the problem's body type. Empty when the
    /// problem could not describe the champion (logged).
    pub document: &'a str,
}

/// A checkpoint is due (every `checkpoint_every` generations, on stop and at
/// the end).
#[derive(Debug, Clone, Copy)]
pub struct CheckpointEvent<'a> {
    pub checkpoint: &'a Checkpoint,
    /// Where it goes (`checkpoints/latest.evock`): written by the time an
    /// observer after the run's own files hears of it.
    pub path: &'a Path,
}

/// Sees a run's events: progress bars, live plots, a user's logging or
/// uploads, and the run's own files. Every handler does nothing by
/// default. A closure over the generation's record is an observer.
pub trait Observer {
    /// A candidate's line, for problems that describe their genomes
    /// (architecture search), as soon as its evaluation is back.
    fn on_candidate(&mut self, record: &CandidateRecord) -> Observed {
        let _ = record;
        Ok(())
    }

    /// A generation closed.
    fn on_generation(&mut self, record: &GenerationRecord) -> Observed {
        let _ = record;
        Ok(())
    }

    /// A better champion was tested.
    fn on_champion(&mut self, event: &ChampionEvent<'_>) -> Observed {
        let _ = event;
        Ok(())
    }

    /// A checkpoint is due.
    fn on_checkpoint(&mut self, event: &CheckpointEvent<'_>) -> Observed {
        let _ = event;
        Ok(())
    }
}

impl<F: FnMut(&GenerationRecord)> Observer for F {
    fn on_generation(&mut self, record: &GenerationRecord) -> Observed {
        self(record);
        Ok(())
    }
}

/// The observers of one run, in the order they hear each event.
pub(crate) struct Observers<'a, 'o> {
    list: Vec<&'a mut (dyn Observer + 'o)>,
}

impl<'a, 'o> Observers<'a, 'o> {
    pub(crate) fn new(list: Vec<&'a mut (dyn Observer + 'o)>) -> Self {
        Self { list }
    }

    pub(crate) fn candidate(&mut self, r: &CandidateRecord) -> Observed {
        self.list.iter_mut().try_for_each(|o| o.on_candidate(r))
    }

    pub(crate) fn generation(&mut self, r: &GenerationRecord) -> Observed {
        self.list.iter_mut().try_for_each(|o| o.on_generation(r))
    }

    pub(crate) fn champion(&mut self, e: &ChampionEvent<'_>) -> Observed {
        self.list.iter_mut().try_for_each(|o| o.on_champion(e))
    }

    pub(crate) fn checkpoint(&mut self, e: &CheckpointEvent<'_>) -> Observed {
        self.list.iter_mut().try_for_each(|o| o.on_checkpoint(e))
    }
}
