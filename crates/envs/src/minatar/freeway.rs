//! MinAtar Freeway: a chicken in column 4 crosses eight lanes of cars from
//! the bottom row to the top, moving at most once every 3 steps; one point
//! per crossing, after which the car speeds are drawn again; a car sends the
//! chicken back to the bottom. Channels: chicken, car, and five trail
//! channels whose index gives the car's speed (it moves once every 1–5
//! steps) and whose cell its direction. The game's own time limit ends the
//! episode after 2,500 steps (terminated, as in the package). No
//! difficulty ramp.

use super::{cell, Game, Move};
use crate::numpy_random::RandomState;

const CHICKEN: usize = 0;
const CAR: usize = 1;
/// The trail channel of speed 1; speed `s` uses `SPEED1 + s - 1`.
const SPEED1: usize = 2;

const PLAYER_SPEED: i32 = 3;
const TIME_LIMIT: i32 = 2500;

/// A car in lane `y` (rows 1–8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Car {
    x: i32,
    y: i32,
    /// Steps until it moves.
    timer: i32,
    /// Signed speed: the sign is the direction (positive: right), the
    /// magnitude the steps between moves (1–5; 0 only if numpy's draw was
    /// exactly one half).
    speed: i32,
}

#[derive(Debug, Clone)]
pub struct Freeway {
    cars: [Car; 8],
    pos: i32,
    move_timer: i32,
    terminate_timer: i32,
    terminal: bool,
}

impl Freeway {
    /// The package's `_randomize_cars`: eight speeds from `randint(1, 6)`,
    /// then eight directions from the sign of `rand() - 0.5`.
    fn randomize_cars(&mut self, initialize: bool, rng: &mut RandomState) {
        let mut speeds = [0i32; 8];
        for s in &mut speeds {
            *s = rng.randint(1, 6) as i32;
        }
        for s in &mut speeds {
            let d = rng.rand() - 0.5;
            *s *= if d > 0.0 {
                1
            } else if d < 0.0 {
                -1
            } else {
                0
            };
        }
        for (i, (car, &s)) in self.cars.iter_mut().zip(&speeds).enumerate() {
            if initialize {
                car.x = 0;
                car.y = i as i32 + 1;
            }
            car.timer = s.abs();
            car.speed = s;
        }
    }

    fn hits(&self, car: &Car) -> bool {
        car.x == 4 && car.y == self.pos
    }
}

impl Game for Freeway {
    const NAME: &'static str = "freeway";
    const CHANNELS: usize = 7;
    const MINIMAL_ACTIONS: &'static [usize] = &[0, 2, 4];

    fn new(_ramping: bool) -> Self {
        let car = Car {
            x: 0,
            y: 0,
            timer: 0,
            speed: 0,
        };
        Freeway {
            cars: [car; 8],
            pos: 9,
            move_timer: PLAYER_SPEED,
            terminate_timer: TIME_LIMIT,
            terminal: false,
        }
    }

    fn reset(&mut self, rng: &mut RandomState) {
        *self = Freeway::new(false);
        self.randomize_cars(true, rng);
    }

    fn act(&mut self, a: Move, rng: &mut RandomState) -> (f64, bool) {
        if self.terminal {
            return (0.0, true);
        }
        if self.move_timer == 0 {
            match a {
                Move::Up => {
                    self.move_timer = PLAYER_SPEED;
                    self.pos = (self.pos - 1).max(0);
                }
                Move::Down => {
                    self.move_timer = PLAYER_SPEED;
                    self.pos = (self.pos + 1).min(9);
                }
                _ => {}
            }
        }
        let mut reward = 0.0;
        if self.pos == 0 {
            reward += 1.0;
            self.randomize_cars(false, rng);
            self.pos = 9;
        }
        for i in 0..self.cars.len() {
            let mut car = self.cars[i];
            if self.hits(&car) {
                self.pos = 9;
            }
            if car.timer == 0 {
                car.timer = car.speed.abs();
                car.x += if car.speed > 0 { 1 } else { -1 };
                if car.x < 0 {
                    car.x = 9;
                } else if car.x > 9 {
                    car.x = 0;
                }
                if self.hits(&car) {
                    self.pos = 9;
                }
            } else {
                car.timer -= 1;
            }
            self.cars[i] = car;
        }
        if self.move_timer > 0 {
            self.move_timer -= 1;
        }
        self.terminate_timer -= 1;
        if self.terminate_timer < 0 {
            self.terminal = true;
        }
        (reward, self.terminal)
    }

    fn player(&self) -> (usize, usize) {
        (self.pos as usize, 4)
    }

    fn frame(&self, frame: &mut [bool]) {
        let c = Self::CHANNELS;
        frame.fill(false);
        frame[cell(self.pos as usize, 4, CHICKEN, c)] = true;
        // The package keeps the previous car's trail channel for a car of
        // speed 0 (a draw of exactly one half); its first car would fail.
        let mut trail = SPEED1;
        for car in &self.cars {
            frame[cell(car.y as usize, car.x as usize, CAR, c)] = true;
            let back = match if car.speed > 0 { car.x - 1 } else { car.x + 1 } {
                -1 => 9,
                10 => 0,
                b => b,
            };
            if car.speed != 0 {
                trail = SPEED1 + car.speed.unsigned_abs() as usize - 1;
            }
            frame[cell(car.y as usize, back as usize, trail, c)] = true;
        }
    }
}
