//! MinAtar Space Invaders: a cannon on the bottom row shoots up at a 4×6
//! block of aliens that marches sideways, steps down at an edge and shoots
//! back from the alien nearest the cannon; one point per alien; the episode
//! ends when an alien or an alien's bullet reaches the cannon. Aliens speed
//! up as they thin out, and (with difficulty ramping) each new wave moves
//! faster than the last. Channels: cannon, alien, alien moving left, alien
//! moving right, friendly bullet, enemy bullet. No randomness but the
//! sticky actions.
//!
//! The package keeps its grids as numpy arrays and moves them with
//! `np.roll`, which wraps around; the wrap is kept (a friendly bullet in the
//! top row reappears in the bottom row before that row is cleared, and the
//! aliens' downward step carries the bottom row to the top on the step that
//! ends the episode).

use super::{cell, Game, Move, SIDE};
use crate::numpy_random::RandomState;

const CANNON: usize = 0;
const ALIEN: usize = 1;
const ALIEN_LEFT: usize = 2;
const ALIEN_RIGHT: usize = 3;
const FRIENDLY_BULLET: usize = 4;
const ENEMY_BULLET: usize = 5;

const SHOT_COOL_DOWN: i32 = 5;
const ENEMY_MOVE_INTERVAL: i32 = 12;
const ENEMY_SHOT_INTERVAL: i32 = 10;

type Grid = [[bool; SIDE]; SIDE];

/// `np.roll(grid, by, axis=0)`: row `r` moves to row `r + by`, wrapping.
fn roll_rows(grid: &mut Grid, by: i32) {
    if by > 0 {
        grid.rotate_right(by as usize);
    } else {
        grid.rotate_left((-by) as usize);
    }
}

/// `np.roll(grid, by, axis=1)`: column `c` moves to `c + by`, wrapping.
fn roll_cols(grid: &mut Grid, by: i32) {
    for row in grid.iter_mut() {
        if by > 0 {
            row.rotate_right(by as usize);
        } else {
            row.rotate_left((-by) as usize);
        }
    }
}

fn column_has(grid: &Grid, col: usize) -> bool {
    grid.iter().any(|row| row[col])
}

#[derive(Debug, Clone)]
pub struct SpaceInvaders {
    ramping: bool,
    pos: usize,
    f_bullets: Grid,
    e_bullets: Grid,
    aliens: Grid,
    alien_dir: i32,
    enemy_move_interval: i32,
    alien_move_timer: i32,
    alien_shot_timer: i32,
    ramp_index: i32,
    shot_timer: i32,
    terminal: bool,
}

impl SpaceInvaders {
    fn fresh_wave(&mut self) {
        for row in &mut self.aliens[0..4] {
            row[2..8].fill(true);
        }
    }

    fn alien_count(&self) -> i32 {
        self.aliens.iter().flatten().filter(|&&a| a).count() as i32
    }

    /// The package's `_nearest_alien`: columns by distance from the cannon
    /// (the left one first on a tie), the lowest alien of the first column
    /// that has one.
    fn nearest_alien(&self) -> Option<(usize, usize)> {
        let mut order: [usize; SIDE] = std::array::from_fn(|i| i);
        order.sort_by_key(|&c| c.abs_diff(self.pos));
        order
            .into_iter()
            .find_map(|c| (0..SIDE).rev().find(|&r| self.aliens[r][c]).map(|r| (r, c)))
    }

    fn move_aliens(&mut self) {
        self.alien_move_timer = self.alien_count().min(self.enemy_move_interval);
        let at_edge = (column_has(&self.aliens, 0) && self.alien_dir < 0)
            || (column_has(&self.aliens, SIDE - 1) && self.alien_dir > 0);
        if at_edge {
            self.alien_dir = -self.alien_dir;
            if self.aliens[SIDE - 1].iter().any(|&a| a) {
                self.terminal = true;
            }
            roll_rows(&mut self.aliens, 1);
        } else {
            roll_cols(&mut self.aliens, self.alien_dir);
        }
        if self.aliens[SIDE - 1][self.pos] {
            self.terminal = true;
        }
    }
}

impl Game for SpaceInvaders {
    const NAME: &'static str = "space_invaders";
    const CHANNELS: usize = 6;
    const MINIMAL_ACTIONS: &'static [usize] = &[0, 1, 3, 5];

    fn new(ramping: bool) -> Self {
        let mut g = SpaceInvaders {
            ramping,
            pos: 5,
            f_bullets: [[false; SIDE]; SIDE],
            e_bullets: [[false; SIDE]; SIDE],
            aliens: [[false; SIDE]; SIDE],
            alien_dir: -1,
            enemy_move_interval: ENEMY_MOVE_INTERVAL,
            alien_move_timer: ENEMY_MOVE_INTERVAL,
            alien_shot_timer: ENEMY_SHOT_INTERVAL,
            ramp_index: 0,
            shot_timer: 0,
            terminal: false,
        };
        g.fresh_wave();
        g
    }

    fn reset(&mut self, _rng: &mut RandomState) {
        *self = SpaceInvaders::new(self.ramping);
    }

    fn act(&mut self, a: Move, _rng: &mut RandomState) -> (f64, bool) {
        if self.terminal {
            return (0.0, true);
        }
        match a {
            Move::Fire if self.shot_timer == 0 => {
                self.f_bullets[SIDE - 1][self.pos] = true;
                self.shot_timer = SHOT_COOL_DOWN;
            }
            Move::Left => self.pos = self.pos.saturating_sub(1),
            Move::Right => self.pos = (self.pos + 1).min(SIDE - 1),
            _ => {}
        }
        roll_rows(&mut self.f_bullets, -1);
        self.f_bullets[SIDE - 1] = [false; SIDE];
        roll_rows(&mut self.e_bullets, 1);
        self.e_bullets[0] = [false; SIDE];
        if self.e_bullets[SIDE - 1][self.pos] || self.aliens[SIDE - 1][self.pos] {
            self.terminal = true;
        }
        if self.alien_move_timer == 0 {
            self.move_aliens();
        }
        if self.alien_shot_timer == 0 {
            self.alien_shot_timer = ENEMY_SHOT_INTERVAL;
            if let Some((r, c)) = self.nearest_alien() {
                self.e_bullets[r][c] = true;
            }
        }
        let mut reward = 0.0;
        for (arow, brow) in self.aliens.iter_mut().zip(self.f_bullets.iter_mut()) {
            for (a, b) in arow.iter_mut().zip(brow.iter_mut()) {
                if *a && *b {
                    reward += 1.0;
                    (*a, *b) = (false, false);
                }
            }
        }
        if self.shot_timer > 0 {
            self.shot_timer -= 1;
        }
        self.alien_move_timer -= 1;
        self.alien_shot_timer -= 1;
        if self.alien_count() == 0 {
            if self.enemy_move_interval > 6 && self.ramping {
                self.enemy_move_interval -= 1;
                self.ramp_index += 1;
            }
            self.fresh_wave();
        }
        (reward, self.terminal)
    }

    fn player(&self) -> (usize, usize) {
        (SIDE - 1, self.pos)
    }

    fn frame(&self, frame: &mut [bool]) {
        let c = Self::CHANNELS;
        frame.fill(false);
        frame[cell(SIDE - 1, self.pos, CANNON, c)] = true;
        let dir = if self.alien_dir < 0 {
            ALIEN_LEFT
        } else {
            ALIEN_RIGHT
        };
        for r in 0..SIDE {
            for col in 0..SIDE {
                if self.aliens[r][col] {
                    frame[cell(r, col, ALIEN, c)] = true;
                    frame[cell(r, col, dir, c)] = true;
                }
                frame[cell(r, col, FRIENDLY_BULLET, c)] = self.f_bullets[r][col];
                frame[cell(r, col, ENEMY_BULLET, c)] = self.e_bullets[r][col];
            }
        }
    }
}
