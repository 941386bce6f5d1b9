//! MinAtar Breakout: a paddle on the bottom row, a ball moving diagonally,
//! three rows of bricks; one point per brick; the bricks come back when
//! all are gone and the ball reaches the bottom; the episode ends when the
//! paddle misses. Channels: paddle, ball, trail (the ball's last cell),
//! brick. No randomness but the ball's start (left or right corner), no
//! difficulty ramp, no time limit.

use super::{cell, Game, Move, SIDE};
use crate::numpy_random::RandomState;

const PADDLE: usize = 0;
const BALL: usize = 1;
const TRAIL: usize = 2;
const BRICK: usize = 3;

/// Directions: 0 up-left, 1 up-right, 2 down-right, 3 down-left.
const STEP: [(i32, i32); 4] = [(-1, -1), (1, -1), (1, 1), (-1, 1)];
/// A wall flips the horizontal part, the top and bricks the vertical part,
/// the paddle's corner both.
const BOUNCE_X: [usize; 4] = [1, 0, 3, 2];
const BOUNCE_Y: [usize; 4] = [3, 2, 1, 0];
const BOUNCE_CORNER: [usize; 4] = [2, 3, 0, 1];

#[derive(Debug, Clone)]
pub struct Breakout {
    ball_x: i32,
    ball_y: i32,
    ball_dir: usize,
    pos: i32,
    bricks: [[bool; SIDE]; SIDE],
    strike: bool,
    last_x: i32,
    last_y: i32,
    terminal: bool,
}

impl Breakout {
    fn fresh_bricks(&mut self) {
        for row in &mut self.bricks[1..4] {
            *row = [true; SIDE];
        }
    }
}

impl Game for Breakout {
    const NAME: &'static str = "breakout";
    const CHANNELS: usize = 4;
    const MINIMAL_ACTIONS: &'static [usize] = &[0, 1, 3];

    fn new(_ramping: bool) -> Self {
        Breakout {
            ball_x: 0,
            ball_y: 3,
            ball_dir: 2,
            pos: 4,
            bricks: [[false; SIDE]; SIDE],
            strike: false,
            last_x: 0,
            last_y: 3,
            terminal: false,
        }
    }

    fn reset(&mut self, rng: &mut RandomState) {
        let (x, dir) = [(0, 2), (9, 3)][rng.randint(0, 2) as usize];
        *self = Breakout {
            ball_x: x,
            ball_y: 3,
            ball_dir: dir,
            last_x: x,
            last_y: 3,
            ..Breakout::new(false)
        };
        self.fresh_bricks();
    }

    fn act(&mut self, a: Move, _rng: &mut RandomState) -> (f64, bool) {
        if self.terminal {
            return (0.0, true);
        }
        match a {
            Move::Left => self.pos = (self.pos - 1).max(0),
            Move::Right => self.pos = (self.pos + 1).min(9),
            _ => {}
        }
        self.last_x = self.ball_x;
        self.last_y = self.ball_y;
        let (dx, dy) = STEP[self.ball_dir];
        let (mut x, mut y) = (self.ball_x + dx, self.ball_y + dy);
        let mut reward = 0.0;
        let mut strike_now = false;
        if !(0..=9).contains(&x) {
            x = x.clamp(0, 9);
            self.ball_dir = BOUNCE_X[self.ball_dir];
        }
        if y < 0 {
            y = 0;
            self.ball_dir = BOUNCE_Y[self.ball_dir];
        } else if self.bricks[y as usize][x as usize] {
            strike_now = true;
            if !self.strike {
                reward += 1.0;
                self.strike = true;
                self.bricks[y as usize][x as usize] = false;
                y = self.last_y;
                self.ball_dir = BOUNCE_Y[self.ball_dir];
            }
        } else if y == 9 {
            if self.bricks.iter().flatten().all(|b| !b) {
                self.fresh_bricks();
            }
            if self.ball_x == self.pos {
                self.ball_dir = BOUNCE_Y[self.ball_dir];
                y = self.last_y;
            } else if x == self.pos {
                self.ball_dir = BOUNCE_CORNER[self.ball_dir];
                y = self.last_y;
            } else {
                self.terminal = true;
            }
        }
        if !strike_now {
            self.strike = false;
        }
        self.ball_x = x;
        self.ball_y = y;
        (reward, self.terminal)
    }

    fn player(&self) -> (usize, usize) {
        (9, self.pos as usize)
    }

    fn frame(&self, frame: &mut [bool]) {
        let c = Self::CHANNELS;
        frame.fill(false);
        frame[cell(self.ball_y as usize, self.ball_x as usize, BALL, c)] = true;
        frame[cell(9, self.pos as usize, PADDLE, c)] = true;
        frame[cell(self.last_y as usize, self.last_x as usize, TRAIL, c)] = true;
        for (row, bricks) in self.bricks.iter().enumerate() {
            for (col, &b) in bricks.iter().enumerate() {
                if b {
                    frame[cell(row, col, BRICK, c)] = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With every brick gone, a ball reaching the bottom row brings the
    /// three rows back (random play never gets there, so the recorded
    /// trajectories do not cover it); the paddle under the ball returns it.
    #[test]
    fn cleared_bricks_come_back_at_the_bottom() {
        let mut rng = RandomState::new(0);
        let mut g = Breakout::new(true);
        g.reset(&mut rng);
        g.bricks = [[false; SIDE]; SIDE];
        (g.ball_x, g.ball_y, g.ball_dir, g.pos) = (4, 8, 2, 4);
        let (r, done) = g.act(Move::Noop, &mut rng);
        assert_eq!((r, done), (0.0, false));
        assert!(g.bricks[1..4].iter().all(|row| row.iter().all(|&b| b)));
        assert_eq!((g.ball_y, g.ball_dir), (8, BOUNCE_Y[2]));
        // Missed: the episode ends and stays ended.
        (g.ball_x, g.ball_y, g.ball_dir, g.pos) = (4, 8, 2, 0);
        assert_eq!(g.act(Move::Noop, &mut rng), (0.0, true));
        assert_eq!(g.act(Move::Left, &mut rng), (0.0, true));
    }
}
