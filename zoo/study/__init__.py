"""The comparative study: `python -m zoo compare` (leaderboard of models x backends) and
`python -m zoo bench` (training/inference speed and peak memory per backend and precision).

Modules: compare (the study; its command line is zoo/cli/compare.py), cells (one model x
backend x seed training process), seeds (intervals over seeds, ties, backend effect), aggregate
(per-seed runs -> leaderboard rows and the two answers), shared_init (initial weights made once
per model and seed, loaded by every backend), child (one process per cell, peak memory),
worker (the entry point of a child's step),
leaderboard (CSV/Markdown/plot), agreement (same loss on every backend, float64),
flops (forward FLOPs per image), bench (the speed and memory command),
torch_resnet (bench's native PyTorch reference ResNet50).
"""
