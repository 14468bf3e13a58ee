"""polyalign: make an English-centric LLM good in other languages.

Implements cross-lingual instruction tuning (x-LLaMA / m-LLaMA), language capability transfer
(vocabulary extension, further pretraining) and question alignment (QAlign) with proxy-tuning, plus
the multilingual evaluation and analyses those papers use. See the README for the command line.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
