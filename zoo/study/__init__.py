"""The comparative study: `python -m zoo compare` (leaderboard of models x backends) and
`python -m zoo bench` (training/inference speed and peak memory per backend and precision).

Modules: compare (the study; its command line is zoo/cli/compare.py), child (one process
per cell, peak memory), worker (the entry point of a child's step),
leaderboard (CSV/Markdown/plot), agreement (same loss on every backend, float64),
flops (forward FLOPs per image), bench (the speed and memory command),
torch_resnet (bench's native PyTorch reference ResNet50).
"""
