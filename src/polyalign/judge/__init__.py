"""Response quality judged by an LLM (``polyalign judge``): LLM-Eval's five dimensions, 0–3 each.

LLaMA beyond English scores free-form answers on accuracy, fluency, informativeness, logical
coherence and harmlessness with a strong judge model and a reference answer. Here: the rubric
prompts (`rubric`), reply parsing (`parse`), judges behind an OpenAI-compatible endpoint or loaded
locally (`clients`), a reply cache (`cache`), bounded retries (`ask`), open-ended sets and samples
(`items`), response generation (`generate`), metrics (`aggregate`) and the run (`runner`).
"""

from polyalign.judge.config import JudgeConfig
from polyalign.judge.items import TASK, JudgeItem, OpenEndedItem, load_instructions, read_sample_items
from polyalign.judge.parse import parse_score, parse_verdict
from polyalign.judge.rubric import DIMENSION_NAMES, DIMENSIONS, RUBRIC_VERSION
from polyalign.judge.runner import make_judge, run_judge

__all__ = ["JudgeConfig", "run_judge", "make_judge", "load_instructions", "read_sample_items", "JudgeItem",
           "OpenEndedItem", "TASK", "parse_score", "parse_verdict", "DIMENSIONS", "DIMENSION_NAMES", "RUBRIC_VERSION"]
