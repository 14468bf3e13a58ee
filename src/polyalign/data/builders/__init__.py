"""The training-data builders, one module per method's data, found by name through a lazy registry."""

from polyalign.data.builders.base import Builder, Instruction, Sample, Text
from polyalign.registry import Registry

__all__ = ["BUILDERS", "Builder", "Instruction", "Sample", "Text"]

BUILDERS: Registry[type[Builder]] = Registry("builder", {
    "translation": "polyalign.data.builders.translation:TranslationBuilder",
    "instructions": "polyalign.data.builders.instructions:InstructionsBuilder",
    "question_alignment": "polyalign.data.builders.question_alignment:QuestionAlignmentBuilder",
    "response_alignment": "polyalign.data.builders.response_alignment:ResponseAlignmentBuilder",
    "pretraining": "polyalign.data.builders.pretraining:PretrainingBuilder",
})
