"""Tiny random Llama models with a freshly trained tokenizer, for tests and CPU smoke runs.

`build_tiny_llama` writes a complete Hugging Face model folder in about a second: a byte-level BPE
tokenizer trained on a multilingual sample (so German, Chinese, Thai, Arabic … all round-trip), a
ChatML chat template, and a randomly initialised `LlamaForCausalLM` with tied embeddings. Both are
written with ``save_pretrained`` so every test exercises the same load-from-disk path as a real
checkpoint. Token ids and special tokens mirror the embedded SmolLM2 model (``<|endoftext|>`` = 0 =
unk, ``<|im_start|>`` = 1 = bos, ``<|im_end|>`` = 2 = eos = pad; no BOS is prepended), so code that
works on the tiny model meets the same conventions on the real one.

A session-scoped pytest fixture (build once, share read-only)::

    import pytest
    from polyalign.models.tiny import build_tiny_llama

    @pytest.fixture(scope="session")
    def tiny_model(tmp_path_factory) -> str:
        return str(build_tiny_llama(tmp_path_factory.mktemp("tiny") / "model"))

Tests that modify the folder (training into it, vocabulary extension) should build their own copy
or write to a separate output folder.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["build_tiny_llama", "SAMPLE_TEXTS", "CHATML_TEMPLATE", "SPECIAL_TOKENS"]

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
"""unk, bos and eos/pad, in id order 0, 1, 2 (as in SmolLM2)."""

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""ChatML without a default system message (SmolLM2's own template adds one)."""

SAMPLE_TEXTS = (
    # English, with numbers and a little arithmetic (the papers' math benchmarks)
    "The quick brown fox jumps over the lazy dog.",
    "Janet has 16 eggs. She eats 3 and bakes 4 into muffins. How many eggs are left? 16 - 3 - 4 = 9.",
    "Question: What is 12 times 7? Answer: 84.",
    "Translate the following sentence into German.",
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    # German, French, Spanish
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Wie viele Äpfel hat Maria, wenn sie 5 kauft und 2 verschenkt? Sie hat 3 Äpfel.",
    "Le renard brun rapide saute par-dessus le chien paresseux.",
    "Où se trouve la bibliothèque ? Elle est à côté de l'école.",
    "El rápido zorro marrón salta sobre el perro perezoso.",
    "¿Cuántos años tienes? Tengo veinticinco años.",
    # Chinese, Japanese
    "敏捷的棕色狐狸跳过了懒狗。",
    "小明有 5 个苹果，他又买了 3 个，现在一共有几个？答案是 8 个。",
    "请把下面的句子翻译成英文。",
    "素早い茶色の狐がのろまな犬を飛び越える。",
    "東京は日本の首都です。今日はいい天気ですね。",
    # Russian, Thai, Arabic
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Сколько будет два плюс три? Ответ: пять.",
    "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ",
    "วันนี้อากาศดีมาก ฉันจะไปตลาดตอนเช้า",
    "الثعلب البني السريع يقفز فوق الكلب الكسول.",
    "كم عمرك؟ عمري ثلاثون سنة.",
    # Swahili, Bengali, Telugu (the MGSM languages), Hindi, Korean
    "Mbweha mwepesi wa kahawia anaruka juu ya mbwa mvivu.",
    "দ্রুত বাদামী শিয়াল অলস কুকুরের উপর দিয়ে লাফ দেয়।",
    "వేగవంతమైన గోధుమ నక్క సోమరి కుక్కపై దూకుతుంది.",
    "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है।",
    "빠른 갈색 여우가 게으른 개를 뛰어넘는다.",
    # native digits and punctuation the scorers care about
    "٣ + ٤ = ٧ and ৩ + ৪ = ৭ and ๓ + ๔ = ๗ and 三加四等于七.",
    "Prices: $1,234.50; -17 °C; 3/4; 50%; e-mail: a.b@example.org.",
    "def add(a, b):\n    return a + b\n",
)
"""The default tokenizer training text: a few sentences in each of the papers' languages."""


def build_tiny_llama(out_dir: str | Path, *, texts: list[str] | None = None, vocab_size: int = 512,
                     hidden: int = 64, layers: int = 2, heads: int = 4, seed: int = 0,
                     chat_template: bool = True) -> Path:
    """Build and save a tiny random Llama model and its tokenizer; deterministic given ``seed``.

    Args:
        out_dir: folder to write (created; existing files are overwritten).
        texts: tokenizer training text (default `SAMPLE_TEXTS`).
        vocab_size: BPE vocabulary size to aim for (≥ 259: the 256 byte symbols and 3 special
            tokens); fewer when the texts have too few merges. The model's vocabulary matches the
            tokenizer's exactly.
        hidden: hidden size (a multiple of ``heads``).
        layers: number of decoder layers.
        heads: attention heads; key/value heads are half of them (grouped-query attention, as in
            SmolLM2), at least one.
        seed: seeds the weight initialisation.
        chat_template: include the ChatML chat template in the tokenizer.

    Returns:
        The output folder, loadable with ``from_pretrained`` or `polyalign.models.load_model`.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    if hidden % heads:
        raise ValueError(f"hidden ({hidden}) must be a multiple of heads ({heads})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(list(texts) if texts is not None else list(SAMPLE_TEXTS), vocab_size,
                                 chat_template)
    tokenizer.save_pretrained(out)

    unk_id, bos_id, eos_id = (tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=2048, tie_word_embeddings=True, rms_norm_eps=1e-5,
        bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=eos_id,
    )
    # Seed a private generator state: building a fixture must not disturb the caller's RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=eos_id)
    model.save_pretrained(out)
    return out


def _train_tokenizer(texts: list[str], vocab_size: int, chat_template: bool):
    """A byte-level BPE (GPT-2 / SmolLM2 style) wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 256 + len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must be at least {256 + len(SPECIAL_TOKENS)} (bytes + special tokens)")
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
        # every byte is in the vocabulary, so any text in any script encodes without unk
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    backend.train_from_iterator(texts, trainer)
    unk, bos, eos = SPECIAL_TOKENS
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token=unk, bos_token=bos, eos_token=eos, pad_token=eos,
        model_max_length=2048, clean_up_tokenization_spaces=False,
    )
    if chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer
