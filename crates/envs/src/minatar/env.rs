//! The five MinAtar games as evonet environments (`MinAtar/<Game>-v0` and
//! `-v1`, the ids of the package's Gymnasium registration): observations are
//! the 10×10×C frame as 0/1 floats, row-major with the channel last (the
//! package's `state()` flattened in C order); actions are indices into the
//! full set of six (`v0`) or the game's minimal set (`v1`), as in
//! `minatar.gym`; `[env] minimal_action_set` overrides either.
//!
//! An episode started with `reset(seed)` seeds the package's `RandomState`
//! with the seed (folded to 32 bits: `seed ^ (seed >> 32)`, the identity for
//! the seeds numpy accepts), so evonet's episode with seed `s` is the
//! package's `env.seed(s); env.reset()` exactly.

use serde::{Deserialize, Serialize};

use super::asterix::Asterix;
use super::breakout::Breakout;
use super::freeway::Freeway;
use super::seaquest::Seaquest;
use super::space_invaders::SpaceInvaders;
use super::{Game, MinAtar, ACTIONS, SIDE};
use crate::{Action, ActionSpace, Env, EnvSpec, Step, TimeLimit};

/// Steps after which a MinAtar episode is truncated unless `max_steps` says
/// otherwise. The package has no limit (Freeway ends itself after 2,500);
/// this one only keeps an evaluation from running forever.
pub const DEFAULT_MAX_STEPS: u64 = 100_000;

/// The package's canonical sticky-action probability.
pub const STICKY_ACTION_PROB: f64 = 0.1;

/// One of the five games.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MinAtarGame {
    Asterix,
    Breakout,
    Freeway,
    Seaquest,
    SpaceInvaders,
}

impl MinAtarGame {
    pub const ALL: [MinAtarGame; 5] = [
        MinAtarGame::Asterix,
        MinAtarGame::Breakout,
        MinAtarGame::Freeway,
        MinAtarGame::Seaquest,
        MinAtarGame::SpaceInvaders,
    ];

    /// The package's name (`space_invaders`).
    pub fn package_name(self) -> &'static str {
        match self {
            MinAtarGame::Asterix => Asterix::NAME,
            MinAtarGame::Breakout => Breakout::NAME,
            MinAtarGame::Freeway => Freeway::NAME,
            MinAtarGame::Seaquest => Seaquest::NAME,
            MinAtarGame::SpaceInvaders => SpaceInvaders::NAME,
        }
    }

    /// The Gymnasium id, `MinAtar/SpaceInvaders-v0` (full action set) or
    /// `-v1` (minimal action set).
    pub fn id(self, minimal: bool) -> &'static str {
        let ids = match self {
            MinAtarGame::Asterix => ["MinAtar/Asterix-v0", "MinAtar/Asterix-v1"],
            MinAtarGame::Breakout => ["MinAtar/Breakout-v0", "MinAtar/Breakout-v1"],
            MinAtarGame::Freeway => ["MinAtar/Freeway-v0", "MinAtar/Freeway-v1"],
            MinAtarGame::Seaquest => ["MinAtar/Seaquest-v0", "MinAtar/Seaquest-v1"],
            MinAtarGame::SpaceInvaders => ["MinAtar/SpaceInvaders-v0", "MinAtar/SpaceInvaders-v1"],
        };
        ids[usize::from(minimal)]
    }

    pub fn channels(self) -> usize {
        match self {
            MinAtarGame::Asterix => Asterix::CHANNELS,
            MinAtarGame::Breakout => Breakout::CHANNELS,
            MinAtarGame::Freeway => Freeway::CHANNELS,
            MinAtarGame::Seaquest => Seaquest::CHANNELS,
            MinAtarGame::SpaceInvaders => SpaceInvaders::CHANNELS,
        }
    }

    pub fn minimal_actions(self) -> &'static [usize] {
        match self {
            MinAtarGame::Asterix => Asterix::MINIMAL_ACTIONS,
            MinAtarGame::Breakout => Breakout::MINIMAL_ACTIONS,
            MinAtarGame::Freeway => Freeway::MINIMAL_ACTIONS,
            MinAtarGame::Seaquest => Seaquest::MINIMAL_ACTIONS,
            MinAtarGame::SpaceInvaders => SpaceInvaders::MINIMAL_ACTIONS,
        }
    }

    /// The frame's shape, `[10, 10, channels]`.
    pub fn frame_shape(self) -> [usize; 3] {
        [SIDE, SIDE, self.channels()]
    }
}

/// The `[env]` settings of a MinAtar environment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MinAtarSettings {
    /// Probability that the previous action repeats (0.1).
    pub sticky_action_prob: f64,
    /// Difficulty ramping (on).
    pub difficulty_ramping: bool,
    /// The game's minimal action set instead of the id's choice.
    pub minimal_action_set: Option<bool>,
}

impl Default for MinAtarSettings {
    fn default() -> Self {
        Self {
            sticky_action_prob: STICKY_ACTION_PROB,
            difficulty_ramping: true,
            minimal_action_set: None,
        }
    }
}

impl MinAtarSettings {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone)]
enum AnyGame {
    Asterix(MinAtar<Asterix>),
    Breakout(MinAtar<Breakout>),
    Freeway(MinAtar<Freeway>),
    Seaquest(MinAtar<Seaquest>),
    SpaceInvaders(MinAtar<SpaceInvaders>),
}

macro_rules! on_game {
    ($g:expr, $e:ident => $body:expr) => {
        match $g {
            AnyGame::Asterix($e) => $body,
            AnyGame::Breakout($e) => $body,
            AnyGame::Freeway($e) => $body,
            AnyGame::Seaquest($e) => $body,
            AnyGame::SpaceInvaders($e) => $body,
        }
    };
}

impl AnyGame {
    fn new(game: MinAtarGame, s: &MinAtarSettings, seed: u32) -> Self {
        let (p, r) = (s.sticky_action_prob, s.difficulty_ramping);
        match game {
            MinAtarGame::Asterix => AnyGame::Asterix(MinAtar::new(p, r, seed)),
            MinAtarGame::Breakout => AnyGame::Breakout(MinAtar::new(p, r, seed)),
            MinAtarGame::Freeway => AnyGame::Freeway(MinAtar::new(p, r, seed)),
            MinAtarGame::Seaquest => AnyGame::Seaquest(MinAtar::new(p, r, seed)),
            MinAtarGame::SpaceInvaders => AnyGame::SpaceInvaders(MinAtar::new(p, r, seed)),
        }
    }
}

/// A MinAtar game as an [`Env`].
#[derive(Debug, Clone)]
pub struct MinAtarEnv {
    spec: EnvSpec,
    settings: MinAtarSettings,
    game_id: MinAtarGame,
    game: AnyGame,
    /// Policy action `i` is package action `actions[i]`.
    actions: &'static [usize],
    frame: Vec<bool>,
    limit: TimeLimit,
    /// Frames of the episode so far with the player (channel 0 in every
    /// game) in each cell: the behaviour characterisation.
    visits: [u32; SIDE * SIDE],
    frames: u32,
}

const FULL_ACTIONS: [usize; ACTIONS] = [0, 1, 2, 3, 4, 5];

/// Folds an evonet seed into numpy's 32-bit seed range.
pub fn numpy_seed(seed: u64) -> u32 {
    (seed ^ (seed >> 32)) as u32
}

impl MinAtarEnv {
    /// The game under id `-v0` (`minimal = false`) or `-v1`.
    pub fn new(
        game: MinAtarGame,
        minimal: bool,
        settings: MinAtarSettings,
        max_steps: Option<u64>,
    ) -> Self {
        let minimal_set = settings.minimal_action_set.unwrap_or(minimal);
        let actions: &'static [usize] = if minimal_set {
            game.minimal_actions()
        } else {
            &FULL_ACTIONS
        };
        let max = max_steps.unwrap_or(DEFAULT_MAX_STEPS);
        let spec = EnvSpec {
            id: game.id(minimal).to_string(),
            obs_dim: SIDE * SIDE * game.channels(),
            frame: Some(game.frame_shape()),
            action_space: ActionSpace::Discrete(actions.len()),
            max_episode_steps: max,
            reward_threshold: None,
        };
        Self {
            spec,
            settings,
            game_id: game,
            game: AnyGame::new(game, &settings, 0),
            actions,
            frame: vec![false; SIDE * SIDE * game.channels()],
            limit: TimeLimit::new(max),
            visits: [0; SIDE * SIDE],
            frames: 0,
        }
    }

    pub fn game(&self) -> MinAtarGame {
        self.game_id
    }

    /// The package action the last step carried out (after stickiness).
    pub fn last_action(&self) -> usize {
        on_game!(&self.game, g => g.last_action())
    }

    fn write_obs(&mut self, obs: &mut [f32]) {
        on_game!(&self.game, g => g.frame(&mut self.frame));
        for (o, &b) in obs.iter_mut().zip(&self.frame) {
            *o = f32::from(u8::from(b));
        }
        let (row, col) = on_game!(&self.game, g => g.player());
        self.visits[row * SIDE + col] += 1;
        self.frames += 1;
    }
}

impl Env for MinAtarEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        self.game = AnyGame::new(self.game_id, &self.settings, numpy_seed(seed));
        self.limit = TimeLimit::new(self.limit.max);
        self.visits = [0; SIDE * SIDE];
        self.frames = 0;
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let a = match action {
            Action::Discrete(i) => self.actions[i],
            Action::Continuous(_) => panic!("{} takes discrete actions", self.spec.id),
        };
        let (reward, terminated) = on_game!(&mut self.game, g => g.act(a));
        self.write_obs(obs);
        Step {
            reward,
            terminated,
            truncated: self.limit.tick(),
        }
    }

    /// The frame, as 0/1 values (the game's objects and random stream are
    /// not exposed).
    fn state(&self) -> Vec<f64> {
        let mut frame = vec![false; self.frame.len()];
        on_game!(&self.game, g => g.frame(&mut frame));
        frame.into_iter().map(|b| f64::from(u8::from(b))).collect()
    }

    /// Where the player spent the episode: for each of the 100 cells, the
    /// fraction of the episode's frames (the first included) with the
    /// player there (the paddle, chicken, submarine, cannon or Asterix
    /// player; channel 0 of every game). Conti et al. characterised Atari
    /// episodes by the console's RAM; MinAtar has no RAM, and the player's
    /// occupancy says what it did rather than how the game ended.
    fn behavior(&self) -> Vec<f32> {
        let frames = self.frames.max(1) as f32;
        self.visits.iter().map(|v| *v as f32 / frames).collect()
    }

    /// # Panics
    /// Always: a MinAtar episode starts from a seed (`reset`), not from a
    /// state.
    fn set_state(&mut self, _state: &[f64], _obs: &mut [f32]) {
        panic!(
            "{}: MinAtar episodes start from a seed, not a state",
            self.spec.id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_package_registration() {
        let v0 = MinAtarEnv::new(
            MinAtarGame::Breakout,
            false,
            MinAtarSettings::default(),
            None,
        );
        assert_eq!(v0.spec().id, "MinAtar/Breakout-v0");
        assert_eq!(v0.spec().action_space, ActionSpace::Discrete(6));
        assert_eq!(v0.spec().obs_dim, 400);
        let v1 = MinAtarEnv::new(
            MinAtarGame::Breakout,
            true,
            MinAtarSettings::default(),
            None,
        );
        assert_eq!(v1.spec().action_space, ActionSpace::Discrete(3));
        let full = MinAtarSettings {
            minimal_action_set: Some(false),
            ..MinAtarSettings::default()
        };
        let v1_full = MinAtarEnv::new(MinAtarGame::Breakout, true, full, None);
        assert_eq!(v1_full.spec().action_space, ActionSpace::Discrete(6));
    }

    #[test]
    fn minimal_actions_map_to_the_package_actions() {
        let mut e = MinAtarEnv::new(
            MinAtarGame::SpaceInvaders,
            true,
            MinAtarSettings {
                sticky_action_prob: 0.0,
                ..MinAtarSettings::default()
            },
            Some(3),
        );
        let mut obs = vec![0.0; e.spec().obs_dim];
        e.reset(7, &mut obs);
        // Minimal set n, l, r, f: index 3 fires.
        e.step(Action::Discrete(3), &mut obs);
        assert_eq!(e.last_action(), 5);
        e.step(Action::Discrete(2), &mut obs);
        assert_eq!(e.last_action(), 3);
        let st = e.step(Action::Discrete(0), &mut obs);
        assert!(st.truncated, "max_steps = 3 truncates the third step");
    }

    /// The behaviour is the player's occupancy of the cells: the paddle
    /// stays on the bottom row, and moving right only shifts its mass right.
    #[test]
    fn behaviour_is_where_the_player_was() {
        let settings = MinAtarSettings {
            sticky_action_prob: 0.0,
            ..MinAtarSettings::default()
        };
        let mut e = MinAtarEnv::new(MinAtarGame::Breakout, true, settings, Some(8));
        let mut obs = vec![0.0; e.spec().obs_dim];
        let mut mean_col = |action: usize| {
            e.reset(3, &mut obs);
            for _ in 0..8 {
                e.step(Action::Discrete(action), &mut obs);
            }
            let b = e.behavior();
            assert_eq!(b.len(), 100);
            let total: f32 = b.iter().sum();
            assert!((total - 1.0).abs() < 1e-6, "{total}");
            assert!(b[..90].iter().all(|v| *v == 0.0), "only the bottom row");
            b[90..]
                .iter()
                .enumerate()
                .map(|(c, v)| c as f32 * v)
                .sum::<f32>()
        };
        // Minimal set n, l, r.
        let (left, right) = (mean_col(1), mean_col(2));
        assert!(right > left + 2.0, "{left} {right}");
        let again = mean_col(1);
        assert_eq!(again, left, "the counts restart with each episode");
    }

    /// `player()` is where every game draws channel 0, its only cell there,
    /// through random play (the behaviour counts it instead of scanning
    /// the frame).
    #[test]
    fn the_player_is_channel_0s_one_cell() {
        use evonet_core::SeededRng;
        let mut rng = SeededRng::new(11);
        for game in MinAtarGame::ALL {
            let mut e = MinAtarEnv::new(game, false, MinAtarSettings::default(), Some(300));
            let mut obs = vec![0.0; e.spec().obs_dim];
            for episode in 0..3 {
                e.reset(episode, &mut obs);
                loop {
                    let channels = game.channels();
                    let drawn: Vec<usize> = (0..SIDE * SIDE)
                        .filter(|&k| e.frame[k * channels])
                        .collect();
                    let (row, col) = on_game!(&e.game, g => g.player());
                    assert_eq!(drawn, vec![row * SIDE + col], "{game:?}");
                    let a = rng.below(6) as usize;
                    if e.step(Action::Discrete(a), &mut obs).done() {
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn seeds_fold_to_numpy_range() {
        assert_eq!(numpy_seed(100), 100);
        assert_eq!(numpy_seed(u64::from(u32::MAX)), u32::MAX);
        assert_eq!(numpy_seed(1 << 32), 1);
    }
}
