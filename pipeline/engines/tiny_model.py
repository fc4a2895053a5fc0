"""A random-weight tiny Llama with the SmolLM2 tokenizer: the fast stand-in model for tests and demos."""

from __future__ import annotations

from pathlib import Path


def load_smollm2_tokenizer():
    """The SmolLM2 tokenizer from the converted cache when present, else straight from the GGUF file."""
    from transformers import AutoTokenizer

    from pipeline.engines.default_model import default_model_dir, gguf_path, is_complete

    cached = default_model_dir()
    if is_complete(cached):
        return AutoTokenizer.from_pretrained(cached)
    gguf = gguf_path()
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


def make_tiny_model(
    directory: str | Path, *, seed: int = 0, hidden_size: int = 64, layers: int = 2, init_std: float = 0.3
) -> Path:
    """Write a tiny random Llama (hidden 64, 2 layers, 4 heads) + the SmolLM2 tokenizer to `directory`.

    The same seed gives the same weights. `init_std` is larger than the usual 0.02 so that the next-token
    distribution is peaked: greedy outputs vary and have no near-ties. Returns the folder.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    directory = Path(directory)
    tokenizer = load_smollm2_tokenizer()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=pad_id,
        tie_word_embeddings=True,
        initializer_range=init_std,
    )
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = LlamaForCausalLM(config)
    finally:
        torch.random.set_rng_state(state)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=pad_id
    )
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
