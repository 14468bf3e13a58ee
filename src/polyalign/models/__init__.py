"""Models: loading from anywhere (zoo name, local folder, GGUF, hub id), the model zoo, tiny test models.

The names below are light to import: transformers and torch are imported inside the functions.
"""

from polyalign.models.gguf import find_gguf, write_llama_gguf
from polyalign.models.loading import DTYPES, load_model, load_tokenizer, resolve_model, save_model
from polyalign.models.tiny import build_tiny_llama
from polyalign.models.zoo import DEFAULT_MODEL, ZOO, pull

__all__ = ["resolve_model", "load_tokenizer", "load_model", "save_model", "find_gguf", "write_llama_gguf",
           "DTYPES",
           "build_tiny_llama", "ZOO", "DEFAULT_MODEL", "pull"]
