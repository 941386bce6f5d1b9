//! MinAtar (Young & Tian 2019, "MinAtar: An Atari-inspired testbed for
//! thorough and reproducible reinforcement learning experiments"): Atari
//! games reduced to 10×10 binary frames with one channel per kind of
//! object, natively and bit-exact against the Python package (1.0.15),
//! random events included.
//!
//! [`MinAtar`] is the package's `Environment`: a game plus sticky actions.
//! Like the package it draws one `rand()` per `act` for stickiness, whatever
//! the probability, from the same numpy `RandomState` the game draws its
//! events from, seeded as `env.seed(seed)` seeds it. `tests/it` replays
//! trajectories recorded from the package (`scripts/record_minatar_fixtures.sh`).
//!
//! [`env::MinAtarEnv`] makes them evonet environments (`MinAtar/<Game>-v1`).
//!
//! The five games: [`asterix`], [`breakout`], [`freeway`], [`seaquest`],
//! [`space_invaders`].

pub mod asterix;
pub mod breakout;
pub mod env;
pub mod freeway;
pub mod seaquest;
pub mod space_invaders;

use crate::numpy_random::RandomState;

/// The frame side: every MinAtar frame is 10×10×channels.
pub const SIDE: usize = 10;

/// MinAtar's six actions, in the package's order.
pub const ACTIONS: usize = 6;

/// The action names, in the package's order (`action_map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Noop,
    Left,
    Up,
    Right,
    Down,
    Fire,
}

impl Move {
    /// Action `a` of `0..6`.
    pub fn of(a: usize) -> Move {
        [
            Move::Noop,
            Move::Left,
            Move::Up,
            Move::Right,
            Move::Down,
            Move::Fire,
        ][a]
    }
}

/// One MinAtar game's rules.
pub trait Game: Clone {
    /// The package's name of the game (`breakout`, ...).
    const NAME: &'static str;
    /// Channels of the frame.
    const CHANNELS: usize;
    /// The actions that matter in this game, as indices of the full six.
    const MINIMAL_ACTIONS: &'static [usize];

    /// A game before its first reset; `ramping`: difficulty ramping.
    fn new(ramping: bool) -> Self;
    fn reset(&mut self, rng: &mut RandomState);
    /// One step of the game under action `a` of `0..6`: reward and
    /// whether the episode ended.
    fn act(&mut self, a: Move, rng: &mut RandomState) -> (f64, bool);
    /// Writes the frame, row-major with the channel last
    /// (`frame[(row · 10 + col) · CHANNELS + channel]`), clearing it first.
    fn frame(&self, frame: &mut [bool]);
    /// The cell (row, column) where `frame` draws the player (channel 0,
    /// always exactly one cell).
    fn player(&self) -> (usize, usize);
}

/// The package's `Environment` around a game: sticky actions.
#[derive(Debug, Clone)]
pub struct MinAtar<G: Game> {
    game: G,
    rng: RandomState,
    sticky_action_prob: f64,
    last_action: usize,
}

impl<G: Game> MinAtar<G> {
    /// `Environment(game, sticky_action_prob, difficulty_ramping)`, then
    /// `seed(seed)` and `reset()`.
    pub fn new(sticky_action_prob: f64, ramping: bool, seed: u32) -> Self {
        let mut rng = RandomState::new(seed);
        let mut game = G::new(ramping);
        game.reset(&mut rng);
        Self {
            game,
            rng,
            sticky_action_prob,
            last_action: 0,
        }
    }

    /// `act(a)`: with the sticky probability the previous action repeats.
    ///
    /// # Panics
    /// When `a` is not below 6.
    pub fn act(&mut self, a: usize) -> (f64, bool) {
        assert!(a < ACTIONS, "MinAtar action {a} outside 0..6");
        let a = if self.rng.rand() < self.sticky_action_prob {
            self.last_action
        } else {
            a
        };
        self.last_action = a;
        self.game.act(Move::of(a), &mut self.rng)
    }

    /// The action the last `act` carried out (after stickiness).
    pub fn last_action(&self) -> usize {
        self.last_action
    }

    /// The current frame (see [`Game::frame`]); `frame` holds
    /// `10 · 10 · G::CHANNELS` cells.
    pub fn frame(&self, frame: &mut [bool]) {
        self.game.frame(frame);
    }

    pub fn player(&self) -> (usize, usize) {
        self.game.player()
    }

    pub fn game(&self) -> &G {
        &self.game
    }
}

/// Index of cell (`row`, `col`, `channel`) in a frame of `channels`.
#[inline]
pub fn cell(row: usize, col: usize, channel: usize, channels: usize) -> usize {
    (row * SIDE + col) * channels + channel
}
