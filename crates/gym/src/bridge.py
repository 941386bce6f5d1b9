"""evonet's Gymnasium bridge: one Python process serving environments to evonet.

evonet writes this script to a temporary file and runs it with the Python of
`[env] python`, `EVONET_PYTHON` or `python3`. It talks over stdin/stdout in
length-prefixed binary frames (little-endian `u32` length, then a one-byte
kind and the body); only the first exchange (`M`, make) is JSON. The
protocol is described in docs/FORMATS.md ("Gymnasium bridge").

Requests (evonet -> bridge):
  M  JSON {"id", "kwargs", "max_episode_steps", "wrappers", "envs"}: make
     `envs` copies, each wrapped in `wrappers` in order
  R  u32 count, then count x (u32 env, u64 seed): reset(seed=...)
  T  u32 count, then count x (u32 env, action): step; a Discrete action is
     an i64, a Box action `n` f32 values
  B  u32 env: the behaviour characterisation of its episode so far
  (R, T and B end with a u8 hint: 1 to check for the next request for a
  while before sleeping, when evonet has a core to spare; 0 to sleep)
Replies (bridge -> evonet):
  S  JSON: the spaces and versions (after M)
  O  per env: observation bytes (after R)
  P  per env: f64 reward, u8 terminated, u8 truncated, observation bytes
  V  u32 count, then count f32 values (after B)
  E  UTF-8 text: what went wrong (the exception's last line); for M, JSON
     {"kind", "message", "install"}

The bridge never samples a space: every action and every seed comes from
evonet. It exits when stdin closes or its parent process goes away.
"""

import json
import os
import re
import struct
import sys
import threading
import time
import traceback

PROTOCOL = 2
STEPPED = struct.Struct("<dBB")


def watch_parent(parent):
    # A SIGKILLed evonet closes our stdin, but a bridge stuck inside a step
    # never reads it: leave as soon as the parent is gone.
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(3)


# How long to check for the next request before sleeping until it comes:
# evonet answers within microseconds of a reply, and waking a sleeping
# process costs tens of microseconds on a virtual machine.
SPIN_S = 200e-6


class Requests:
    """Frames read from a file descriptor. When evonet's last request said
    there is a core to spare (`spin_s` > 0), a request on its way is caught
    by checking for it (yielding the core in between) before the read that
    sleeps until it comes."""

    def __init__(self, fd):
        import select

        self.fd, self.select, self.buffer = fd, select.select, bytearray()
        self.spin_s = 0.0

    def fill(self, n):
        while len(self.buffer) < n:
            if self.spin_s > 0.0:
                spin_until = time.perf_counter() + self.spin_s
                while not self.select([self.fd], [], [], 0)[0]:
                    if time.perf_counter() >= spin_until:
                        break
                    os.sched_yield()
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                sys.exit(0)
            self.buffer += chunk

    def frame(self):
        self.fill(4)
        (length,) = struct.unpack_from("<I", self.buffer, 0)
        self.fill(4 + length)
        body = bytes(self.buffer[4 : 4 + length])
        del self.buffer[: 4 + length]
        return body[:1], body[1:]


def write_frame(stream, kind, body):
    stream.write(struct.pack("<I", len(body) + 1) + kind + body)
    stream.flush()


def last_line(exc):
    lines = traceback.format_exception_only(type(exc), exc)
    return lines[-1].strip() if lines else repr(exc)


def versions():
    out = {"python": sys.version.split()[0], "protocol": PROTOCOL}
    for name in ("gymnasium", "numpy", "mujoco", "ale_py"):
        module = sys.modules.get(name)
        if module is not None:
            out[name] = getattr(module, "__version__", "?")
    return out


INSTALL = {
    "gymnasium": 'pip install "gymnasium"',
    "numpy": 'pip install "numpy"',
    "mujoco": 'pip install "gymnasium[mujoco]"',
    "ale_py": 'pip install "gymnasium[atari]"',
    "cv2": 'pip install "gymnasium[other]"',
    "opencv": 'pip install opencv-python-headless',
    "Box2D": 'pip install "gymnasium[box2d]"',
    "pygame": 'pip install "gymnasium[classic-control]"',
}


def make_error(exc):
    """What a failed make means for the user, and what to install."""
    missing = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
    if missing is None:
        # Gymnasium wraps missing extras in DependencyNotInstalled, whose
        # message usually says what to run.
        text = str(exc)
        said = re.search(r"pip install [\"']?[\w\-\[\],.=]+[\"']?", text)
        if type(exc).__name__ == "DependencyNotInstalled" and said:
            return {"kind": "missing_module", "message": last_line(exc), "install": said.group(0)}
        for module, hint in INSTALL.items():
            if module.lower() in text.lower() and "install" in text.lower():
                return {"kind": "missing_module", "message": last_line(exc), "install": hint}
        kind = "unknown_id" if type(exc).__name__ in ("NameNotFound", "VersionNotFound", "NamespaceNotFound", "UnregisteredEnv", "Error") else "exception"
        return {"kind": kind, "message": last_line(exc), "install": ""}
    root = missing.split(".")[0]
    hint = INSTALL.get(root, 'pip install "%s"' % root)
    return {"kind": "missing_module", "message": last_line(exc), "install": hint}


def finite(v):
    return float(v) if v == v and abs(v) != float("inf") else None


def describe_space(space, np):
    import gymnasium.spaces as spaces

    if isinstance(space, spaces.Discrete):
        return {"discrete": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        return {
            "box": {
                "shape": [int(d) for d in space.shape],
                "dtype": np.dtype(space.dtype).name,
                # JSON has no infinity: an unbounded side is null.
                "low": [finite(v) for v in np.asarray(space.low, dtype=np.float64).ravel()],
                "high": [finite(v) for v in np.asarray(space.high, dtype=np.float64).ravel()],
            }
        }
    raise TypeError("evonet takes Box and Discrete spaces, not %s" % type(space).__name__)


def channel_last(env, np):
    """Stacked frames (stack, H, W[, C]) as evonet's channel-last frames
    (H, W, stack * C); stacked vectors flattened."""
    import gymnasium as gym

    space = env.observation_space
    shape = space.shape
    if len(shape) == 3:
        order = (1, 2, 0)
    elif len(shape) == 4:
        order = (1, 2, 0, 3)
    else:
        order = None

    def convert(x):
        x = np.asarray(x)
        if order is None:
            return x.reshape(-1)
        x = np.transpose(x, order)
        return x.reshape(x.shape[0], x.shape[1], -1)

    low, high = convert(space.low), convert(space.high)
    new_space = gym.spaces.Box(low=low, high=high, dtype=space.dtype)
    return gym.wrappers.TransformObservation(env, convert, new_space)


def wrap(env, spec, np):
    """One of evonet's `[env] wrappers`, by its `kind`."""
    from gymnasium import wrappers as W

    kind = spec["kind"]
    if kind == "time_limit":
        return W.TimeLimit(env, max_episode_steps=int(spec["max_episode_steps"]))
    if kind == "clip_action":
        return W.ClipAction(env)
    if kind == "atari_preprocessing":
        return W.AtariPreprocessing(
            env,
            noop_max=int(spec["noop_max"]),
            frame_skip=int(spec["frame_skip"]),
            screen_size=int(spec["screen_size"]),
            grayscale_obs=bool(spec["grayscale"]),
            terminal_on_life_loss=bool(spec["terminal_on_life_loss"]),
        )
    if kind == "frame_stack":
        return channel_last(W.FrameStackObservation(env, stack_size=int(spec["size"])), np)
    raise ValueError("unknown wrapper %r" % kind)


def behavior_kind(env):
    """Which behaviour characterisation the environment has, if any: its
    own `behavior()` method, MuJoCo's centre of mass, or Atari's RAM."""
    u = env.unwrapped
    if callable(getattr(u, "behavior", None)):
        return "method"
    data = getattr(u, "data", None)
    if data is not None and hasattr(data, "subtree_com"):
        return "centre_of_mass"
    if hasattr(getattr(u, "ale", None), "getRAM"):
        return "ram"
    return None


def behavior(env, kind, np):
    u = env.unwrapped
    if kind == "method":
        values = u.behavior()
    elif kind == "centre_of_mass":
        # The whole model's mass-weighted centre (x, y): Conti et al.'s
        # MuJoCo characterisation.
        values = u.data.subtree_com[0][:2]
    elif kind == "ram":
        values = u.ale.getRAM()
    else:
        values = []
    return np.asarray(values, dtype=np.float32).ravel()


def make(gym, request, np):
    env_id = request["id"]
    if env_id.startswith("ALE/"):
        # Gymnasium 1.x registers the Atari games only when asked to.
        import ale_py

        gym.register_envs(ale_py)
    kwargs = dict(request.get("kwargs") or {})
    if request.get("max_episode_steps") is not None:
        kwargs["max_episode_steps"] = int(request["max_episode_steps"])
    env = gym.make(env_id, **kwargs)
    for spec in request.get("wrappers") or []:
        env = wrap(env, spec, np)
    return env


class Bridge:
    def __init__(self, request):
        import gymnasium as gym
        import numpy as np

        self.np = np
        self.envs = [make(gym, request, np) for _ in range(max(1, int(request.get("envs", 1))))]
        env = self.envs[0]
        obs_space = describe_space(env.observation_space, np)
        if "box" not in obs_space:
            raise TypeError("evonet takes Box observations, not %s" % type(env.observation_space).__name__)
        self.obs_dtype = np.dtype(obs_space["box"]["dtype"])
        # Images travel as bytes, everything else as f32.
        self.obs_wire = np.uint8 if self.obs_dtype == np.uint8 else np.float32
        self.action = describe_space(env.action_space, np)
        if "box" in self.action:
            self.action_dim = int(np.prod(self.action["box"]["shape"]))
            self.action_shape = tuple(self.action["box"]["shape"])
            self.action_dtype = np.dtype(self.action["box"]["dtype"])
        spec = env.spec
        self.description = {
            "observation": obs_space,
            "action": self.action,
            "obs_wire": "u8" if self.obs_wire == np.uint8 else "f32",
            "max_episode_steps": getattr(spec, "max_episode_steps", None),
            "reward_threshold": finite(getattr(spec, "reward_threshold", None) or 0.0)
            if getattr(spec, "reward_threshold", None) is not None
            else None,
            "versions": versions(),
            "behavior": behavior_kind(env),
        }

    def obs_bytes(self, obs):
        return self.np.ascontiguousarray(obs, dtype=self.obs_wire).tobytes()

    def reset(self, body):
        (count,) = struct.unpack_from("<I", body, 0)
        out, at = [], 4
        for _ in range(count):
            index, seed = struct.unpack_from("<IQ", body, at)
            at += 12
            obs, _info = self.envs[index].reset(seed=seed)
            out.append(self.obs_bytes(obs))
        return b"".join(out)

    def behavior(self, body):
        (index,) = struct.unpack_from("<I", body, 0)
        values = behavior(self.envs[index], self.description["behavior"], self.np)
        return struct.pack("<I", values.size) + values.astype("<f4").tobytes()

    def step(self, body):
        np, envs, header = self.np, self.envs, STEPPED.pack
        (count,) = struct.unpack_from("<I", body, 0)
        out, at = [], 4
        discrete = "discrete" in self.action
        for _ in range(count):
            (index,) = struct.unpack_from("<I", body, at)
            at += 4
            if discrete:
                (a,) = struct.unpack_from("<q", body, at)
                at += 8
                action = int(a) + self.action["start"]
            else:
                n = self.action_dim
                action = np.frombuffer(body, dtype="<f4", count=n, offset=at)
                action = action.astype(self.action_dtype).reshape(self.action_shape)
                at += 4 * n
            obs, reward, terminated, truncated, _info = envs[index].step(action)
            out.append(header(float(reward), bool(terminated), bool(truncated)))
            out.append(self.obs_bytes(obs))
        return b"".join(out)


def main():
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    requests, stdout = Requests(sys.stdin.fileno()), sys.stdout.buffer
    # Whatever the environment prints must not corrupt the frames.
    sys.stdout = sys.stderr
    kind, body = requests.frame()
    if kind != b"M":
        write_frame(stdout, b"E", json.dumps({"kind": "protocol", "message": "expected make", "install": ""}).encode())
        return
    try:
        bridge = Bridge(json.loads(body))
    except BaseException as exc:  # noqa: BLE001 - reported to evonet
        write_frame(stdout, b"E", json.dumps(make_error(exc)).encode())
        return
    write_frame(stdout, b"S", json.dumps(bridge.description).encode())
    while True:
        kind, body = requests.frame()
        requests.spin_s = SPIN_S if body[-1:] == b"\x01" else 0.0
        body = body[:-1]
        try:
            if kind == b"R":
                write_frame(stdout, b"O", bridge.reset(body))
            elif kind == b"T":
                write_frame(stdout, b"P", bridge.step(body))
            elif kind == b"B":
                write_frame(stdout, b"V", bridge.behavior(body))
            else:
                write_frame(stdout, b"E", b"unknown request %r" % kind)
        except Exception as exc:  # noqa: BLE001 - one failed evaluation
            write_frame(stdout, b"E", last_line(exc).encode("utf-8", "replace"))


if __name__ == "__main__":
    main()
