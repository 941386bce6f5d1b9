//! The deceptive maze navigation task of Lehman & Stanley, "Abandoning
//! objectives: evolution through the search for novelty alone" (Evolutionary
//! Computation 19(2), 2011), as its reference code (`novelty-search-cpp`,
//! `maze.h`) plays it:
//!
//! - a robot of radius 8 starts at the map's start point and heading, with
//!   six rangefinders of range 100 at −90, −45, 0, 45, 90 and −180 degrees
//!   from its heading and four radar slices that say in which quarter
//!   ([315, 405), [45, 135), [135, 225), [225, 315) degrees) the goal lies;
//! - each step, two outputs in [0, 1] change the turn rate and the speed by
//!   (output − 0.5), each clamped to ±3; the robot moves along its old
//!   heading, turns, and a move that would bring it within 8 units of a
//!   wall is cancelled (speed is kept);
//! - 400 steps; the goal is reached within 5 units (the episode then ends);
//!   the return, paid on the last step, is 300 − the final distance to the
//!   goal (at least 0.1), and the behaviour is the final (x, y).
//!
//! Observations are the six rangefinders divided by their range, then the
//! four radar slices (0 or 1); the network's bias stands for the reference
//! code's bias input. The reference code writes the radar one slot too low,
//! over the rear rangefinder, and never writes its last input: the
//! `Maze/…Legacy-v0` ids reproduce that layout (the rear rangefinder lost,
//! a last input of 0) for comparisons with the original runs.

use crate::{Action, ActionSpace, Env, EnvSpec, Step, TimeLimit};

const RADIUS: f64 = 8.0;
const RANGE: f64 = 100.0;
/// The rangefinders' directions relative to the heading, −90, −45, 0, 45,
/// 90 and −180 degrees, as (cos, sin).
const RANGEFINDERS: [(f64, f64); 6] = [
    (0.0, -1.0),
    (
        std::f64::consts::FRAC_1_SQRT_2,
        -std::f64::consts::FRAC_1_SQRT_2,
    ),
    (1.0, 0.0),
    (
        std::f64::consts::FRAC_1_SQRT_2,
        std::f64::consts::FRAC_1_SQRT_2,
    ),
    (0.0, 1.0),
    (-1.0, 0.0),
];
const RADAR_SLICES: [(f64, f64); 4] = [
    (315.0, 405.0),
    (45.0, 135.0),
    (135.0, 225.0),
    (225.0, 315.0),
];
const MAX_RATE: f64 = 3.0;
/// A robot this close to the goal has reached it.
pub const GOAL_RADIUS: f64 = 5.0;
const FITNESS_BASE: f64 = 300.0;
const STEPS: u64 = 400;
/// Observations per step: six rangefinders and four radar slices.
pub const OBS_DIM: usize = 10;

/// A map: start, heading, goal and walls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MazeMap {
    /// Lehman & Stanley's medium map (11 walls, 300 × 135).
    Medium,
    /// Lehman & Stanley's hard map (13 walls, 200 × 200), also used by
    /// Such et al.'s image maze.
    Hard,
}

/// One wall, from (x1, y1) to (x2, y2).
type Segment = [f64; 4];

const HARD_WALLS: [Segment; 13] = [
    [41.0, 5.0, 3.0, 8.0],
    [3.0, 8.0, 4.0, 49.0],
    [4.0, 49.0, 57.0, 53.0],
    [4.0, 49.0, 7.0, 202.0],
    [7.0, 202.0, 195.0, 198.0],
    [195.0, 198.0, 186.0, 8.0],
    [186.0, 8.0, 39.0, 5.0],
    [56.0, 54.0, 56.0, 157.0],
    [57.0, 106.0, 158.0, 162.0],
    [77.0, 201.0, 108.0, 164.0],
    [6.0, 80.0, 33.0, 121.0],
    [192.0, 146.0, 87.0, 91.0],
    [56.0, 55.0, 133.0, 30.0],
];

const MEDIUM_WALLS: [Segment; 11] = [
    [293.0, 7.0, 289.0, 130.0],
    [289.0, 130.0, 6.0, 134.0],
    [6.0, 134.0, 8.0, 5.0],
    [8.0, 5.0, 292.0, 7.0],
    [241.0, 130.0, 58.0, 65.0],
    [114.0, 7.0, 73.0, 42.0],
    [130.0, 91.0, 107.0, 46.0],
    [196.0, 8.0, 139.0, 51.0],
    [219.0, 122.0, 182.0, 63.0],
    [267.0, 9.0, 214.0, 63.0],
    [271.0, 129.0, 237.0, 88.0],
];

impl MazeMap {
    pub fn walls(self) -> &'static [Segment] {
        match self {
            MazeMap::Medium => &MEDIUM_WALLS,
            MazeMap::Hard => &HARD_WALLS,
        }
    }
    pub fn start(self) -> (f64, f64) {
        match self {
            MazeMap::Medium => (30.0, 22.0),
            MazeMap::Hard => (36.0, 184.0),
        }
    }
    pub fn goal(self) -> (f64, f64) {
        match self {
            MazeMap::Medium => (270.0, 100.0),
            MazeMap::Hard => (31.0, 20.0),
        }
    }
    /// The smallest box holding every wall: (x_min, y_min, x_max, y_max).
    pub fn bounds(self) -> [f64; 4] {
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for w in self.walls() {
            b[0] = b[0].min(w[0]).min(w[2]);
            b[1] = b[1].min(w[1]).min(w[3]);
            b[2] = b[2].max(w[0]).max(w[2]);
            b[3] = b[3].max(w[1]).max(w[3]);
        }
        b
    }
}

/// Input layout: as intended, or as the reference code wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLayout {
    Fixed,
    Legacy,
}

/// The robot's state.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Robot {
    x: f64,
    y: f64,
    /// Degrees in [0, 360).
    heading: f64,
    speed: f64,
    turn_rate: f64,
}

impl Robot {
    /// At the map's start, heading 0, standing still.
    fn at_start(map: MazeMap) -> Self {
        let (x, y) = map.start();
        Self {
            x,
            y,
            heading: 0.0,
            speed: 0.0,
            turn_rate: 0.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Maze {
    spec: EnvSpec,
    map: MazeMap,
    layout: InputLayout,
    robot: Robot,
    limit: TimeLimit,
}

impl Maze {
    pub fn new(map: MazeMap, layout: InputLayout, max_steps: Option<u64>) -> Self {
        let max = max_steps.unwrap_or(STEPS);
        Self {
            spec: EnvSpec {
                id: Self::id(map, layout).into(),
                obs_dim: OBS_DIM,
                frame: None,
                action_space: ActionSpace::Box {
                    low: vec![0.0; 2],
                    high: vec![1.0; 2],
                },
                max_episode_steps: max,
                reward_threshold: Some(FITNESS_BASE - GOAL_RADIUS),
            },
            map,
            layout,
            robot: Robot::at_start(map),
            limit: TimeLimit::new(max),
        }
    }

    pub fn id(map: MazeMap, layout: InputLayout) -> &'static str {
        match (map, layout) {
            (MazeMap::Medium, InputLayout::Fixed) => "Maze/Medium-v0",
            (MazeMap::Hard, InputLayout::Fixed) => "Maze/Hard-v0",
            (MazeMap::Medium, InputLayout::Legacy) => "Maze/MediumLegacy-v0",
            (MazeMap::Hard, InputLayout::Legacy) => "Maze/HardLegacy-v0",
        }
    }

    pub fn map(&self) -> MazeMap {
        self.map
    }

    /// The robot's position.
    pub fn position(&self) -> (f64, f64) {
        (self.robot.x, self.robot.y)
    }

    pub fn distance_to_goal(&self) -> f64 {
        let (gx, gy) = self.map.goal();
        let (dx, dy) = (self.robot.x - gx, self.robot.y - gy);
        (dx * dx + dy * dy).sqrt()
    }

    /// The reference code's fitness: 300 − distance, at least 0.1.
    pub fn fitness(&self) -> f64 {
        (FITNESS_BASE - self.distance_to_goal()).max(0.1)
    }

    fn at_goal(&self) -> bool {
        self.distance_to_goal() < GOAL_RADIUS
    }

    fn collides(&self, x: f64, y: f64) -> bool {
        self.map
            .walls()
            .iter()
            .any(|w| point_segment_distance_squared(x, y, w) < RADIUS * RADIUS)
    }

    /// Each rangefinder's distance to the nearest wall it sees, at most
    /// the range, divided by the range. Walls outside, rays inside: each
    /// wall's terms that do not depend on the ray are computed once.
    fn rangefinders(&self) -> [f64; 6] {
        let (x, y) = (self.robot.x, self.robot.y);
        let (s, c) = self.robot.heading.to_radians().sin_cos();
        let mut ux = [0.0; 6];
        let mut uy = [0.0; 6];
        for (j, (rc, rs)) in RANGEFINDERS.iter().enumerate() {
            ux[j] = (c * rc - s * rs) * RANGE;
            uy[j] = (s * rc + c * rs) * RANGE;
        }
        // The nearest crossing so far as a fraction num / den of the range,
        // compared by cross-multiplying: no division in the loop.
        let mut num = [1.0f64; 6];
        let mut den = [1.0f64; 6];
        for &[cx, cy, dx, dy] in self.map.walls() {
            let (ex, ey) = (dx - cx, dy - cy);
            let (px, py) = (x - cx, y - cy);
            // They cross at r = r_num / denom along the ray and t along the
            // wall; both must lie in [0, 1] (parallel lines: denom = 0).
            let r_num = py * ex - px * ey;
            for j in 0..6 {
                let denom = ux[j] * ey - uy[j] * ex;
                let sign = denom.signum();
                let (d, r, t) = (denom.abs(), r_num * sign, (py * ux[j] - px * uy[j]) * sign);
                let hit = d > 0.0 && (0.0..=d).contains(&r) && (0.0..=d).contains(&t);
                if hit && r * den[j] < num[j] * d {
                    num[j] = r;
                    den[j] = d;
                }
            }
        }
        std::array::from_fn(|j| num[j] / den[j])
    }

    fn write_obs(&self, obs: &mut [f32]) {
        for (o, d) in obs.iter_mut().zip(self.rangefinders()) {
            *o = d as f32;
        }
        let (gx, gy) = self.map.goal();
        let bearing = (gy - self.robot.y).atan2(gx - self.robot.x).to_degrees();
        let relative = (bearing - self.robot.heading).rem_euclid(360.0);
        let radar = match self.layout {
            InputLayout::Fixed => 6,
            // Over the rear rangefinder; the reference code never writes
            // the last input (0 here).
            InputLayout::Legacy => 5,
        };
        for (o, (lo, hi)) in obs[radar..radar + 4].iter_mut().zip(RADAR_SLICES) {
            let inside = (lo..hi).contains(&relative) || (lo..hi).contains(&(relative + 360.0));
            *o = if inside { 1.0 } else { 0.0 };
        }
        if self.layout == InputLayout::Legacy {
            obs[OBS_DIM - 1] = 0.0;
        }
    }
}

/// Distance from (x, y) to the segment.
#[cfg(test)]
fn point_segment_distance(x: f64, y: f64, s: &Segment) -> f64 {
    point_segment_distance_squared(x, y, s).sqrt()
}

/// Squared distance from (x, y) to the segment.
#[inline]
fn point_segment_distance_squared(x: f64, y: f64, s: &Segment) -> f64 {
    let [x1, y1, x2, y2] = *s;
    let (dx, dy) = (x2 - x1, y2 - y1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((x - x1) * dx + (y - y1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (ex, ey) = (x - (x1 + t * dx), y - (y1 + t * dy));
    ex * ex + ey * ey
}

impl Env for Maze {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// The maze is deterministic: every episode starts alike.
    fn reset(&mut self, _seed: u64, obs: &mut [f32]) {
        self.robot = Robot::at_start(self.map);
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let (turn, propel) = match action {
            Action::Continuous(a) => (f64::from(a[0]), f64::from(a[1])),
            Action::Discrete(_) => panic!("the maze takes continuous actions"),
        };
        let r = &mut self.robot;
        r.turn_rate = (r.turn_rate + (turn - 0.5)).clamp(-MAX_RATE, MAX_RATE);
        r.speed = (r.speed + (propel - 0.5)).clamp(-MAX_RATE, MAX_RATE);
        let (sin, cos) = r.heading.to_radians().sin_cos();
        let (nx, ny) = (r.x + cos * r.speed, r.y + sin * r.speed);
        r.heading = (r.heading + r.turn_rate).rem_euclid(360.0);
        if !self.collides(nx, ny) {
            self.robot.x = nx;
            self.robot.y = ny;
        }
        self.write_obs(obs);
        let terminated = self.at_goal();
        let truncated = self.limit.tick();
        let reward = if terminated || truncated {
            self.fitness()
        } else {
            0.0
        };
        Step {
            reward,
            terminated,
            truncated,
        }
    }

    /// The final position.
    fn behavior(&self) -> Vec<f32> {
        vec![self.robot.x as f32, self.robot.y as f32]
    }

    /// x, y, heading (degrees), speed, turn rate.
    fn state(&self) -> Vec<f64> {
        let r = &self.robot;
        vec![r.x, r.y, r.heading, r.speed, r.turn_rate]
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.robot = Robot {
            x: state[0],
            y: state[1],
            heading: state[2],
            speed: state[3],
            turn_rate: state[4],
        };
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hard() -> (Maze, Vec<f32>) {
        let mut m = Maze::new(MazeMap::Hard, InputLayout::Fixed, None);
        let mut obs = vec![0.0; OBS_DIM];
        m.reset(0, &mut obs);
        (m, obs)
    }

    #[test]
    fn sensors_at_the_hard_start() {
        let (_, obs) = hard();
        // Heading 0 (east) at (36, 184): the wall 77,201-108,164 crosses the
        // ray at x = 77 + 31·17/37.
        let ahead = 77.0 + 31.0 * 17.0 / 37.0 - 36.0;
        assert!((f64::from(obs[2]) - ahead / 100.0).abs() < 1e-6, "{obs:?}");
        // Up (+y, at 90 degrees) the outer wall 7,202-195,198 is about 17.4 away.
        assert!((obs[4] - 0.174).abs() < 0.01, "{obs:?}");
        // The goal (31, 20) lies at about 268 degrees: the [225, 315) slice.
        assert_eq!(&obs[6..], &[0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn legacy_layout_loses_the_rear_rangefinder() {
        let mut m = Maze::new(MazeMap::Hard, InputLayout::Legacy, None);
        let mut obs = vec![9.0; OBS_DIM];
        m.reset(0, &mut obs);
        let (_, fixed) = hard();
        assert_eq!(&obs[..5], &fixed[..5]);
        assert_eq!(&obs[5..9], &fixed[6..]);
        assert_eq!(obs[9], 0.0);
    }

    #[test]
    fn walls_stop_the_robot_and_the_episode_pays_at_its_end() {
        let (mut m, mut obs) = hard();
        // Full speed ahead, no turn: the robot drives east into the wall
        // 77,201-108,164 and stays 8 units from it.
        let mut total = 0.0;
        let mut steps = 0;
        loop {
            let s = m.step(Action::Continuous(&[0.5, 1.0]), &mut obs);
            total += s.reward;
            steps += 1;
            if s.done() {
                assert!(s.truncated && !s.terminated);
                break;
            }
            assert_eq!(s.reward, 0.0);
        }
        assert_eq!(steps, 400);
        let (x, y) = m.position();
        assert_eq!(y, 184.0);
        assert!(x > 70.0 && x < 91.0, "{x}");
        let nearest = HARD_WALLS
            .iter()
            .map(|w| point_segment_distance(x, y, w))
            .fold(f64::INFINITY, f64::min);
        assert!((RADIUS..RADIUS + 3.0).contains(&nearest), "{nearest}");
        assert_eq!(total, m.fitness());
        assert_eq!(m.behavior(), vec![x as f32, y as f32]);
    }

    #[test]
    fn reaching_the_goal_ends_the_episode() {
        let (mut m, mut obs) = hard();
        let (gx, gy) = MazeMap::Hard.goal();
        m.set_state(&[gx + 7.0, gy, 180.0, 3.0, 0.0], &mut obs);
        let s = m.step(Action::Continuous(&[0.5, 0.5]), &mut obs);
        assert!(s.terminated);
        assert!(s.reward > 295.0);
    }

    #[test]
    fn rates_are_clamped() {
        let (mut m, mut obs) = hard();
        for _ in 0..20 {
            m.step(Action::Continuous(&[1.0, 0.0]), &mut obs);
        }
        let st = m.state();
        assert_eq!(st[3], -MAX_RATE);
        assert_eq!(st[4], MAX_RATE);
    }

    #[test]
    fn distances_to_segments() {
        assert_eq!(
            point_segment_distance(5.0, 3.0, &[0.0, 0.0, 10.0, 0.0]),
            3.0
        );
        assert_eq!(
            point_segment_distance(13.0, 4.0, &[0.0, 0.0, 10.0, 0.0]),
            5.0
        );
    }
}
