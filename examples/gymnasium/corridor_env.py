"""A Gymnasium environment of your own, evolved by evonet through the bridge
(configs/gym-corridor-es.toml; README, "Your own Gymnasium environment")."""

import gymnasium as gym
import numpy as np


class Corridor(gym.Env):
    """Walk from somewhere in the middle of a corridor to its right end."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)  # 0: a step left, 1: a step right

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)  # evonet gives every episode its seed
        self.x = self.np_random.uniform(-0.5, 0.5)
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x = min(1.0, max(-1.0, self.x + (0.1 if action == 1 else -0.1)))
        arrived = self.x >= 1.0
        return np.array([self.x], np.float32), (1.0 if arrived else -0.01), arrived, False, {}

    def behavior(self):
        """Optional, for novelty search: what the episode did, as numbers."""
        return [self.x]


gym.register("Corridor-v0", entry_point=Corridor, max_episode_steps=100)
