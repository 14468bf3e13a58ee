"""Cross-lingual alignment of hidden states by layer (`polyalign analyze alignment`)."""
