//! MinAtar Seaquest: a two-cell submarine shoots enemy fish and submarines
//! (one point each), picks up divers, and must surface before its oxygen
//! runs out; surfacing with six divers scores the remaining oxygen; a hit,
//! empty oxygen or surfacing without a diver ends the episode. Each
//! surfacing ramps the difficulty (faster spawns and enemies). Channels:
//! sub front, sub back, friendly bullet, trail, enemy bullet, enemy fish,
//! enemy sub, oxygen gauge, diver gauge, diver.
//!
//! The package keeps its objects in Python lists, walks them backwards while
//! removing from them, and removes by value (`list.remove` drops the first
//! equal element). [`PyList`] reproduces exactly that, including an enemy
//! sub that keeps updating (and shooting) on the step it leaves the list.

use super::{cell, Game, Move};
use crate::numpy_random::RandomState;

const SUB_FRONT: usize = 0;
const SUB_BACK: usize = 1;
const FRIENDLY_BULLET: usize = 2;
const TRAIL: usize = 3;
const ENEMY_BULLET: usize = 4;
const ENEMY_FISH: usize = 5;
const ENEMY_SUB: usize = 6;
const OXYGEN_GAUGE: usize = 7;
const DIVER_GAUGE: usize = 8;
const DIVER: usize = 9;

const MAX_OXYGEN: i32 = 200;
const INIT_SPAWN_SPEED: i32 = 20;
const DIVER_SPAWN_SPEED: i32 = 30;
const INIT_MOVE_INTERVAL: i32 = 5;
const SHOT_COOL_DOWN: i32 = 5;
const ENEMY_SHOT_INTERVAL: i32 = 10;
const DIVER_MOVE_INTERVAL: i32 = 5;

/// A bullet, fish, diver or enemy sub: position, direction (`right`), and
/// its timers (`moves`: steps to its next move; `shoots`: enemy subs only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Object {
    x: i32,
    y: i32,
    right: bool,
    moves: i32,
    shoots: i32,
}

impl Object {
    fn at(&self, x: i32, y: i32) -> bool {
        self.x == x && self.y == y
    }
    fn meets(&self, o: &Object) -> bool {
        self.at(o.x, o.y)
    }
    fn advance(&mut self) {
        self.x += if self.right { 1 } else { -1 };
    }
    fn outside(&self) -> bool {
        !(0..=9).contains(&self.x)
    }
    /// The cell behind it, if on the board.
    fn back(&self) -> Option<i32> {
        let b = if self.right { self.x - 1 } else { self.x + 1 };
        (0..=9).contains(&b).then_some(b)
    }
}

/// A Python list of objects, with `remove` by value.
#[derive(Debug, Clone, Default)]
struct PyList(Vec<Object>);

impl PyList {
    /// `list.remove(o)`: drops the first element equal to `o`; its index.
    fn remove(&mut self, o: &Object) -> usize {
        let i = self
            .0
            .iter()
            .position(|x| x == o)
            .expect("the package removes only what its list holds");
        self.0.remove(i);
        i
    }

    /// The first element that shares a cell with `o`, if any.
    fn first_meeting(&self, o: &Object) -> Option<Object> {
        self.0.iter().find(|x| x.meets(o)).copied()
    }

    /// Visits the list as `for o in reversed(list)` does while the body
    /// removes from it: index by index from the end, stopping when the index
    /// leaves the list.
    fn walk_back(&mut self, mut body: impl FnMut(&mut PyList, usize)) {
        let mut i = self.0.len() as isize - 1;
        while i >= 0 && (i as usize) < self.0.len() {
            body(self, i as usize);
            i -= 1;
        }
    }
}

/// Where the object a loop is visiting lives now: in its list at an index
/// that removals before it shift, or out of the list (Python still holds it).
#[derive(Debug, Clone, Copy)]
struct Tracked {
    obj: Object,
    index: Option<usize>,
}

impl Tracked {
    fn new(list: &PyList, i: usize) -> Self {
        Tracked {
            obj: list.0[i],
            index: Some(i),
        }
    }
    /// Writes the object's new value where it lives.
    fn store(&self, list: &mut PyList) {
        if let Some(i) = self.index {
            list.0[i] = self.obj;
        }
    }
    /// Removes (by value) `o` from the list this object lives in.
    fn removed(&mut self, list: &mut PyList, o: &Object) {
        let j = list.remove(o);
        self.index = match self.index {
            Some(i) if i == j => None,
            Some(i) if j < i => Some(i - 1),
            other => other,
        };
    }
}

#[derive(Debug, Clone)]
pub struct Seaquest {
    ramping: bool,
    oxygen: i32,
    diver_count: i32,
    sub_x: i32,
    sub_y: i32,
    /// Facing right.
    sub_or: bool,
    f_bullets: PyList,
    e_bullets: PyList,
    e_fish: PyList,
    e_subs: PyList,
    divers: PyList,
    e_spawn_speed: i32,
    e_spawn_timer: i32,
    d_spawn_timer: i32,
    move_speed: i32,
    ramp_index: i32,
    shot_timer: i32,
    surface: bool,
    terminal: bool,
}

fn object(x: i32, y: i32, right: bool, moves: i32, shoots: i32) -> Object {
    Object {
        x,
        y,
        right,
        moves,
        shoots,
    }
}

impl Seaquest {
    fn spawn_enemy(&mut self, rng: &mut RandomState) {
        let right = rng.rand() < 0.5;
        let is_sub = rng.rand() < 1.0 / 3.0;
        let x = if right { 0 } else { 9 };
        let y = rng.randint(1, 9) as i32;
        let clash = |l: &PyList| l.0.iter().any(|z| z.y == y && z.right != right);
        if clash(&self.e_subs) || clash(&self.e_fish) {
            return;
        }
        if is_sub {
            let o = object(x, y, right, self.move_speed, ENEMY_SHOT_INTERVAL);
            self.e_subs.0.push(o);
        } else {
            self.e_fish.0.push(object(x, y, right, self.move_speed, 0));
        }
    }

    fn spawn_diver(&mut self, rng: &mut RandomState) {
        let right = rng.rand() < 0.5;
        let x = if right { 0 } else { 9 };
        let y = rng.randint(1, 9) as i32;
        self.divers
            .0
            .push(object(x, y, right, DIVER_MOVE_INTERVAL, 0));
    }

    fn player(&mut self, a: Move) {
        match a {
            Move::Fire if self.shot_timer == 0 => {
                let b = object(self.sub_x, self.sub_y, self.sub_or, 0, 0);
                self.f_bullets.0.push(b);
                self.shot_timer = SHOT_COOL_DOWN;
            }
            Move::Fire | Move::Noop => {}
            Move::Left => {
                self.sub_x = (self.sub_x - 1).max(0);
                self.sub_or = false;
            }
            Move::Right => {
                self.sub_x = (self.sub_x + 1).min(9);
                self.sub_or = true;
            }
            Move::Up => self.sub_y = (self.sub_y - 1).max(0),
            Move::Down => self.sub_y = (self.sub_y + 1).min(8),
        }
    }

    fn update_friendly_bullets(&mut self) -> f64 {
        let mut reward = 0.0;
        let (fish, subs) = (&mut self.e_fish, &mut self.e_subs);
        self.f_bullets.walk_back(|bullets, i| {
            let b = &mut bullets.0[i];
            b.advance();
            let b = *b;
            if b.outside() {
                bullets.remove(&b);
                return;
            }
            for enemies in [&mut *fish, &mut *subs] {
                if let Some(e) = enemies.first_meeting(&b) {
                    enemies.remove(&e);
                    bullets.remove(&b);
                    reward += 1.0;
                    return;
                }
            }
        });
        reward
    }

    fn update_divers(&mut self) {
        let (x, y) = (self.sub_x, self.sub_y);
        let count = &mut self.diver_count;
        self.divers.walk_back(|divers, i| {
            let d = divers.0[i];
            if d.at(x, y) && *count < 6 {
                divers.remove(&d);
                *count += 1;
                return;
            }
            if d.moves != 0 {
                divers.0[i].moves -= 1;
                return;
            }
            let mut d = d;
            d.moves = DIVER_MOVE_INTERVAL;
            d.advance();
            divers.0[i] = d;
            if d.outside() {
                divers.remove(&d);
            } else if d.at(x, y) && *count < 6 {
                divers.remove(&d);
                *count += 1;
            }
        });
    }

    /// Enemy subs and fish: `shoots` is whether they are subs.
    fn update_enemies(&mut self, shoots: bool) -> f64 {
        let mut reward = 0.0;
        let (x, y, speed) = (self.sub_x, self.sub_y, self.move_speed);
        let mut terminal = false;
        let (bullets, e_bullets) = (&mut self.f_bullets, &mut self.e_bullets);
        let list = if shoots {
            &mut self.e_subs
        } else {
            &mut self.e_fish
        };
        list.walk_back(|list, i| {
            let mut t = Tracked::new(list, i);
            if t.obj.at(x, y) {
                terminal = true;
            }
            if t.obj.moves == 0 {
                t.obj.moves = speed;
                t.obj.advance();
                t.store(list);
                if t.obj.outside() {
                    let o = t.obj;
                    t.removed(list, &o);
                } else if t.obj.at(x, y) {
                    terminal = true;
                } else if let Some(b) = bullets.first_meeting(&t.obj) {
                    let o = t.obj;
                    t.removed(list, &o);
                    bullets.remove(&b);
                    reward += 1.0;
                }
            } else {
                t.obj.moves -= 1;
                t.store(list);
            }
            if shoots {
                if t.obj.shoots == 0 {
                    t.obj.shoots = ENEMY_SHOT_INTERVAL;
                    e_bullets
                        .0
                        .push(object(t.obj.x, t.obj.y, t.obj.right, 0, 0));
                } else {
                    t.obj.shoots -= 1;
                }
                t.store(list);
            }
        });
        self.terminal |= terminal;
        reward
    }

    fn update_enemy_bullets(&mut self) {
        let (x, y) = (self.sub_x, self.sub_y);
        let mut terminal = false;
        self.e_bullets.walk_back(|bullets, i| {
            if bullets.0[i].at(x, y) {
                terminal = true;
            }
            bullets.0[i].advance();
            let b = bullets.0[i];
            if b.outside() {
                bullets.remove(&b);
            } else if b.at(x, y) {
                terminal = true;
            }
        });
        self.terminal |= terminal;
    }

    /// The package's `_surface`.
    fn surface(&mut self) -> f64 {
        self.surface = true;
        let reward = if self.diver_count == 6 {
            self.diver_count = 0;
            f64::from(self.oxygen * 10 / MAX_OXYGEN)
        } else {
            0.0
        };
        self.oxygen = MAX_OXYGEN;
        self.diver_count -= 1;
        if self.ramping && (self.e_spawn_speed > 1 || self.move_speed > 2) {
            if self.move_speed > 2 && self.ramp_index % 2 == 1 {
                self.move_speed -= 1;
            }
            if self.e_spawn_speed > 1 {
                self.e_spawn_speed -= 1;
            }
            self.ramp_index += 1;
        }
        reward
    }

    fn tick(&mut self) -> f64 {
        self.e_spawn_timer -= i32::from(self.e_spawn_timer > 0);
        self.d_spawn_timer -= i32::from(self.d_spawn_timer > 0);
        self.shot_timer -= i32::from(self.shot_timer > 0);
        if self.oxygen <= 0 {
            self.terminal = true;
        }
        if self.sub_y > 0 {
            self.oxygen -= 1;
            self.surface = false;
            0.0
        } else if self.surface {
            0.0
        } else if self.diver_count == 0 {
            self.terminal = true;
            0.0
        } else {
            self.surface()
        }
    }
}

impl Game for Seaquest {
    const NAME: &'static str = "seaquest";
    const CHANNELS: usize = 10;
    const MINIMAL_ACTIONS: &'static [usize] = &[0, 1, 2, 3, 4, 5];

    fn new(ramping: bool) -> Self {
        Seaquest {
            ramping,
            oxygen: MAX_OXYGEN,
            diver_count: 0,
            sub_x: 5,
            sub_y: 0,
            sub_or: false,
            f_bullets: PyList::default(),
            e_bullets: PyList::default(),
            e_fish: PyList::default(),
            e_subs: PyList::default(),
            divers: PyList::default(),
            e_spawn_speed: INIT_SPAWN_SPEED,
            e_spawn_timer: INIT_SPAWN_SPEED,
            d_spawn_timer: DIVER_SPAWN_SPEED,
            move_speed: INIT_MOVE_INTERVAL,
            ramp_index: 0,
            shot_timer: 0,
            surface: true,
            terminal: false,
        }
    }

    fn reset(&mut self, _rng: &mut RandomState) {
        *self = Seaquest::new(self.ramping);
    }

    fn act(&mut self, a: Move, rng: &mut RandomState) -> (f64, bool) {
        if self.terminal {
            return (0.0, true);
        }
        if self.e_spawn_timer == 0 {
            self.spawn_enemy(rng);
            self.e_spawn_timer = self.e_spawn_speed;
        }
        if self.d_spawn_timer == 0 {
            self.spawn_diver(rng);
            self.d_spawn_timer = DIVER_SPAWN_SPEED;
        }
        self.player(a);
        let mut reward = self.update_friendly_bullets();
        self.update_divers();
        reward += self.update_enemies(true);
        self.update_enemy_bullets();
        reward += self.update_enemies(false);
        reward += self.tick();
        (reward, self.terminal)
    }

    fn player(&self) -> (usize, usize) {
        (self.sub_y as usize, self.sub_x as usize)
    }

    fn frame(&self, frame: &mut [bool]) {
        let c = Self::CHANNELS;
        frame.fill(false);
        let (sx, sy) = (self.sub_x as usize, self.sub_y as usize);
        frame[cell(sy, sx, SUB_FRONT, c)] = true;
        // The back is always on the board: facing right, the sub moved right
        // (x ≥ 1); facing left, it starts at x = 5 or moved left (x ≤ 8).
        let back = if self.sub_or {
            self.sub_x - 1
        } else {
            self.sub_x + 1
        };
        frame[cell(sy, back as usize, SUB_BACK, c)] = true;
        let oxygen = (self.oxygen.max(0) * 10 / MAX_OXYGEN) as usize;
        for col in 0..oxygen.min(10) {
            frame[cell(9, col, OXYGEN_GAUGE, c)] = true;
        }
        // `state[9, 9 - divers:9]`: empty when the count is 0 or below (the
        // package leaves it at -1 after surfacing with six).
        let start = (9 - self.diver_count).clamp(3, 9) as usize;
        for col in start..9 {
            frame[cell(9, col, DIVER_GAUGE, c)] = true;
        }
        let put = |frame: &mut [bool], list: &PyList, ch: usize, trail: bool| {
            for o in &list.0 {
                frame[cell(o.y as usize, o.x as usize, ch, c)] = true;
                if let Some(b) = o.back().filter(|_| trail) {
                    frame[cell(o.y as usize, b as usize, TRAIL, c)] = true;
                }
            }
        };
        put(frame, &self.f_bullets, FRIENDLY_BULLET, false);
        put(frame, &self.e_bullets, ENEMY_BULLET, false);
        put(frame, &self.e_fish, ENEMY_FISH, true);
        put(frame, &self.e_subs, ENEMY_SUB, true);
        put(frame, &self.divers, DIVER, true);
    }
}
