//! The Gymnasium wrappers a config can put around a bridged environment
//! (`[env] wrappers`), applied in the bridge in the order given.

use serde::{Deserialize, Serialize};

/// One wrapper, by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Wrapper {
    /// `TimeLimit`: truncate episodes after this many steps.
    TimeLimit { max_episode_steps: u64 },
    /// `ClipAction`: clip continuous actions to the action space.
    ClipAction,
    /// `AtariPreprocessing` (Mnih et al. 2015, as Gymnasium implements
    /// it): up to `noop_max` no-op actions at reset, `frame_skip` frames
    /// per step (max-pooled over the last two), frames resized to
    /// `screen_size` squared, grayscale. Make the game with `frameskip =
    /// 1` in `[env.kwargs]`: the wrapper skips frames itself.
    AtariPreprocessing {
        #[serde(default = "four")]
        frame_skip: u32,
        #[serde(default = "eighty_four")]
        screen_size: u32,
        #[serde(default = "thirty")]
        noop_max: u32,
        #[serde(default = "yes")]
        grayscale: bool,
        #[serde(default)]
        terminal_on_life_loss: bool,
    },
    /// `FrameStackObservation`: the last `size` observations, as the
    /// channels of one frame (height, width, `size` × channels) for
    /// convolutional policies, or one vector.
    FrameStack {
        #[serde(default = "four")]
        size: u32,
    },
}

fn four() -> u32 {
    4
}
fn eighty_four() -> u32 {
    84
}
fn thirty() -> u32 {
    30
}
fn yes() -> bool {
    true
}

impl Wrapper {
    /// The field that is out of its range, and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let range = |field: &'static str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err((field, format!("must be between {lo} and {hi}")))
            }
        };
        match self {
            Wrapper::TimeLimit { max_episode_steps } => {
                range("max_episode_steps", *max_episode_steps, 1, 1 << 40)
            }
            Wrapper::ClipAction => Ok(()),
            Wrapper::AtariPreprocessing {
                frame_skip,
                screen_size,
                noop_max,
                ..
            } => {
                range("frame_skip", *frame_skip as u64, 1, 16)?;
                range("screen_size", *screen_size as u64, 8, 512)?;
                range("noop_max", *noop_max as u64, 0, 1000)
            }
            Wrapper::FrameStack { size } => range("size", *size as u64, 1, 64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_atari_conventions_and_ranges_are_checked() {
        let w: Wrapper = serde_json::from_str(r#"{"kind": "atari_preprocessing"}"#).unwrap();
        assert_eq!(
            w,
            Wrapper::AtariPreprocessing {
                frame_skip: 4,
                screen_size: 84,
                noop_max: 30,
                grayscale: true,
                terminal_on_life_loss: false
            }
        );
        let s: Wrapper = serde_json::from_str(r#"{"kind": "frame_stack"}"#).unwrap();
        assert_eq!(s, Wrapper::FrameStack { size: 4 });
        assert!(Wrapper::FrameStack { size: 0 }.validate().is_err());
        assert!(serde_json::from_str::<Wrapper>(r#"{"kind": "frame_stack", "sise": 4}"#).is_err());
        assert!(serde_json::from_str::<Wrapper>(r#"{"kind": "nope"}"#).is_err());
    }
}
