//! MinAtar Asterix: the player moves in the four directions over rows 1–8;
//! enemies and gold enter from the sides, one per row; gold is worth one
//! point, an enemy ends the episode. Channels: player, enemy, trail (the
//! cell behind each entity, which gives its direction), gold. With
//! difficulty ramping, entities spawn and move faster every 100 steps.

use super::{cell, Game, Move};
use crate::numpy_random::RandomState;

const PLAYER: usize = 0;
const ENEMY: usize = 1;
const TRAIL: usize = 2;
const GOLD: usize = 3;

const RAMP_INTERVAL: i32 = 100;
const INIT_SPAWN_SPEED: i32 = 10;
const INIT_MOVE_INTERVAL: i32 = 5;

/// An enemy or a piece of gold in its row (slot `i` is row `i + 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entity {
    x: i32,
    y: i32,
    /// Moving right (entered on the left).
    right: bool,
    gold: bool,
}

#[derive(Debug, Clone)]
pub struct Asterix {
    ramping: bool,
    player_x: i32,
    player_y: i32,
    entities: [Option<Entity>; 8],
    spawn_speed: i32,
    spawn_timer: i32,
    move_speed: i32,
    move_timer: i32,
    ramp_timer: i32,
    ramp_index: i32,
    terminal: bool,
}

impl Asterix {
    /// The package's `_spawn_entity`: two draws for side and kind, then a
    /// free slot (none when every row is taken).
    fn spawn(&mut self, rng: &mut RandomState) {
        let right = rng.rand() < 0.5;
        let gold = rng.rand() < 1.0 / 3.0;
        let mut free = [0usize; 8];
        let mut n = 0;
        for (i, e) in self.entities.iter().enumerate() {
            if e.is_none() {
                free[n] = i;
                n += 1;
            }
        }
        if n == 0 {
            return;
        }
        let slot = free[rng.randint(0, n as i64) as usize];
        self.entities[slot] = Some(Entity {
            x: if right { 0 } else { 9 },
            y: slot as i32 + 1,
            right,
            gold,
        });
    }

    /// The player meets entity `i`: gold is picked up, an enemy kills.
    fn touch(&mut self, i: usize) -> f64 {
        match self.entities[i] {
            Some(e) if e.x == self.player_x && e.y == self.player_y => {
                if e.gold {
                    self.entities[i] = None;
                    1.0
                } else {
                    self.terminal = true;
                    0.0
                }
            }
            _ => 0.0,
        }
    }

    fn ramp(&mut self) {
        if !(self.ramping && (self.spawn_speed > 1 || self.move_speed > 1)) {
            return;
        }
        if self.ramp_timer >= 0 {
            self.ramp_timer -= 1;
            return;
        }
        if self.move_speed > 1 && self.ramp_index % 2 == 1 {
            self.move_speed -= 1;
        }
        if self.spawn_speed > 1 {
            self.spawn_speed -= 1;
        }
        self.ramp_index += 1;
        self.ramp_timer = RAMP_INTERVAL;
    }
}

impl Game for Asterix {
    const NAME: &'static str = "asterix";
    const CHANNELS: usize = 4;
    const MINIMAL_ACTIONS: &'static [usize] = &[0, 1, 2, 3, 4];

    fn new(ramping: bool) -> Self {
        Asterix {
            ramping,
            player_x: 5,
            player_y: 5,
            entities: [None; 8],
            spawn_speed: INIT_SPAWN_SPEED,
            spawn_timer: INIT_SPAWN_SPEED,
            move_speed: INIT_MOVE_INTERVAL,
            move_timer: INIT_MOVE_INTERVAL,
            ramp_timer: RAMP_INTERVAL,
            ramp_index: 0,
            terminal: false,
        }
    }

    fn reset(&mut self, _rng: &mut RandomState) {
        *self = Asterix::new(self.ramping);
    }

    fn act(&mut self, a: Move, rng: &mut RandomState) -> (f64, bool) {
        if self.terminal {
            return (0.0, true);
        }
        if self.spawn_timer == 0 {
            self.spawn(rng);
            self.spawn_timer = self.spawn_speed;
        }
        match a {
            Move::Left => self.player_x = (self.player_x - 1).max(0),
            Move::Right => self.player_x = (self.player_x + 1).min(9),
            Move::Up => self.player_y = (self.player_y - 1).max(1),
            Move::Down => self.player_y = (self.player_y + 1).min(8),
            Move::Noop | Move::Fire => {}
        }
        let mut reward = 0.0;
        for i in 0..self.entities.len() {
            reward += self.touch(i);
        }
        if self.move_timer == 0 {
            self.move_timer = self.move_speed;
            for i in 0..self.entities.len() {
                if let Some(e) = &mut self.entities[i] {
                    e.x += if e.right { 1 } else { -1 };
                    if !(0..=9).contains(&e.x) {
                        self.entities[i] = None;
                    }
                }
                reward += self.touch(i);
            }
        }
        self.spawn_timer -= 1;
        self.move_timer -= 1;
        self.ramp();
        (reward, self.terminal)
    }

    fn player(&self) -> (usize, usize) {
        (self.player_y as usize, self.player_x as usize)
    }

    fn frame(&self, frame: &mut [bool]) {
        let c = Self::CHANNELS;
        frame.fill(false);
        frame[cell(self.player_y as usize, self.player_x as usize, PLAYER, c)] = true;
        for e in self.entities.iter().flatten() {
            let ch = if e.gold { GOLD } else { ENEMY };
            frame[cell(e.y as usize, e.x as usize, ch, c)] = true;
            let back = if e.right { e.x - 1 } else { e.x + 1 };
            if (0..=9).contains(&back) {
                frame[cell(e.y as usize, back as usize, TRAIL, c)] = true;
            }
        }
    }
}
