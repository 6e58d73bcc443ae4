"""`hf://org/name` handles: a Hugging Face Hub repository downloaded into its local cache."""

HF_PREFIX = "hf://"


def download(handle: str, patterns=("*.json", "*.safetensors")) -> str:
    """`hf://org/name` -> the local snapshot folder (cached after the first call); one-line
    ValueError when it cannot be fetched (offline, unknown or gated repository)."""
    repo = handle[len(HF_PREFIX):].strip("/")
    if not handle.startswith(HF_PREFIX) or repo.count("/") != 1:
        raise ValueError(f"{handle}: expected hf://org/name")
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo, allow_patterns=list(patterns))
    except Exception as e:  # offline, unknown repository, gated model: all mean "not here"
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise ValueError(f"{handle}: cannot download ({reason}); offline, pass a local file or "
                         "folder (--weights PATH) or --weights none") from None
