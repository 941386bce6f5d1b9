"""Times neat-python on its XOR example (config values of
examples/xor/config-feedforward, fitness 4 - sum (out - target)^2, stop at
3.9), serially, for seeds 1..RUNS. Used by scripts/bench_neat_python.sh."""
import argparse
import os
import statistics
import tempfile
import time

import neat

CONFIG = """
[NEAT]
fitness_criterion     = max
fitness_threshold     = 3.9
pop_size              = 150
reset_on_extinction   = False
no_fitness_termination = False

[DefaultGenome]
activation_default      = sigmoid
activation_mutate_rate  = 0.0
activation_options      = sigmoid
aggregation_default     = sum
aggregation_mutate_rate = 0.0
aggregation_options     = sum
bias_init_mean          = 0.0
bias_init_stdev         = 1.0
bias_max_value          = 30.0
bias_min_value          = -30.0
bias_mutate_power       = 0.5
bias_mutate_rate        = 0.7
bias_replace_rate       = 0.1
compatibility_disjoint_coefficient = 1.0
compatibility_weight_coefficient   = 0.5
conn_add_prob           = 0.5
conn_delete_prob        = 0.5
enabled_default         = True
enabled_mutate_rate     = 0.01
feed_forward            = True
initial_connection      = full
node_add_prob           = 0.2
node_delete_prob        = 0.2
num_hidden              = 0
num_inputs              = 2
num_outputs             = 1
response_init_mean      = 1.0
response_init_stdev     = 0.0
response_max_value      = 30.0
response_min_value      = -30.0
response_mutate_power   = 0.0
response_mutate_rate    = 0.0
response_replace_rate   = 0.0
weight_init_mean        = 0.0
weight_init_stdev       = 1.0
weight_max_value        = 30
weight_min_value        = -30
weight_mutate_power     = 0.5
weight_mutate_rate      = 0.8
weight_replace_rate     = 0.1

[DefaultSpeciesSet]
compatibility_threshold = 3.0

[DefaultStagnation]
species_fitness_func = max
max_stagnation       = 20
species_elitism      = 2

[DefaultReproduction]
elitism            = 2
survival_threshold = 0.2
min_species_size   = 2
"""

XOR_IN = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
XOR_OUT = [0.0, 1.0, 1.0, 0.0]
EVALS = 0


def eval_genomes(genomes, config):
    global EVALS
    for _, g in genomes:
        EVALS += 1
        g.fitness = 4.0
        net = neat.nn.FeedForwardNetwork.create(g, config)
        for xi, xo in zip(XOR_IN, XOR_OUT):
            g.fitness -= (net.activate(xi)[0] - xo) ** 2


def main():
    global EVALS
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--generations", type=int, default=300)
    a = ap.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(CONFIG)
        path = f.name
    config = neat.Config(neat.DefaultGenome, neat.DefaultReproduction,
                         neat.DefaultSpeciesSet, neat.DefaultStagnation, path)
    times, evals, solved = [], 0, 0
    t_all = time.perf_counter()
    for seed in range(1, a.runs + 1):
        EVALS = 0
        pop = neat.Population(config, seed=seed)
        t0 = time.perf_counter()
        winner = pop.run(eval_genomes, a.generations)
        times.append(time.perf_counter() - t0)
        evals += EVALS
        solved += winner.fitness >= 3.9
        print(f'{{"seed":{seed},"solved":{str(winner.fitness >= 3.9).lower()},"evaluations":{EVALS},"seconds":{times[-1]:.4f}}}')
    wall = time.perf_counter() - t_all
    os.unlink(path)
    print(f"neat-python: {solved}/{a.runs} solved; {wall:.2f} s for {a.runs} runs, "
          f"median {statistics.median(times):.4f} s per run, {evals / wall:.0f} evaluations/s")


if __name__ == "__main__":
    main()
