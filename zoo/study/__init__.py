"""The comparative study: `python -m zoo compare` (leaderboard of models x backends) and
`python -m zoo bench` (training/inference speed against keras.applications).

Modules: compare (the command), child (one process per cell, peak memory),
leaderboard (CSV/Markdown/plot), agreement (same loss on every backend),
flops (forward FLOPs per image), bench (the speed command).
"""
