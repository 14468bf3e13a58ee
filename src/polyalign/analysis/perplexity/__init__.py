"""Bits per character and byte of texts (`polyalign analyze perplexity`)."""
