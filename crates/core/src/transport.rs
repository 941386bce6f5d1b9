//! How a genome travels to another process: the part that is its own, and
//! optionally a part it shares with the other candidates of its batch.
//!
//! Most genomes are self-contained (a seed chain, a NEAT genome, an
//! architecture) and travel whole. An OpenAI-ES candidate is the
//! generation's centre plus one scaled slice of the noise table: Salimans
//! et al.'s system (2017) broadcasts the centre once per generation and
//! sends each worker only a noise index and its sign. [`Transport`] says
//! which part is which, so a transport (the Redis evaluator) sends a shared
//! part once per batch, whatever the number of candidates, and knows
//! nothing of strategies.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{de::DeserializeOwned, Serialize};

/// A genome split for transport. [`Transport::join`] of the two parts of
/// [`Transport::split`] gives back an equal genome.
pub trait Transport: Sized {
    /// What each candidate carries (`Self` for a self-contained genome).
    type Own: Serialize + DeserializeOwned + Clone;
    /// What candidates of a batch share (`()` when nothing is shared).
    type Shared: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// The candidate's own part and, if any, its shared part. Candidates
    /// that share one hold the same `Arc` (a transport groups them by
    /// pointer and sends each shared part once per batch).
    fn split(&self) -> (Cow<'_, Self::Own>, Option<&Arc<Self::Shared>>);

    /// The genome from its parts; an error when a shared part is expected
    /// and missing.
    fn join(own: Self::Own, shared: Option<Arc<Self::Shared>>) -> Result<Self, String>;
}

/// Implements [`Transport`] for self-contained genomes: they travel whole.
#[macro_export]
macro_rules! self_contained_transport {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::transport::Transport for $t {
            type Own = $t;
            type Shared = ();
            fn split(
                &self,
            ) -> (
                ::std::borrow::Cow<'_, $t>,
                Option<&::std::sync::Arc<()>>,
            ) {
                (::std::borrow::Cow::Borrowed(self), None)
            }
            fn join(
                own: $t,
                _shared: Option<::std::sync::Arc<()>>,
            ) -> Result<Self, String> {
                Ok(own)
            }
        }
    )*};
}

self_contained_transport!(f64, Vec<bool>, crate::PolicyParams, crate::SeedChain);

/// Checks that `g` survives [`Transport::split`] and [`Transport::join`]
/// (for tests of genome types).
pub fn round_trips<G: Transport + PartialEq>(g: &G) -> bool {
    let (own, shared) = g.split();
    G::join(own.into_owned(), shared.cloned()).is_ok_and(|back| &back == g)
}
